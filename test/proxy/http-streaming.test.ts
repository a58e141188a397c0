/**
 * Bodies streamed through the router in both directions, and graceful shutdown: requests in
 * flight finish while new connections are refused.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import {
  routeConfig,
  sampleSum,
  send,
  startProxy,
  useFixtures,
  waitFor,
  type BackendHandler,
} from './support.js';

const fx = useFixtures();
const MIB = 1024 * 1024;

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `total` random bytes as a stream of 64 KiB chunks, and their hash. */
function randomStream(total: number): { stream: Readable; data: Buffer } {
  const data = randomBytes(total);
  const chunks = Array.from({ length: Math.ceil(total / 65536) }, (_, i) =>
    data.subarray(i * 65536, (i + 1) * 65536),
  );
  return { stream: Readable.from(chunks), data };
}

async function oneBackend(handler: BackendHandler) {
  const backend = await fx.backend('v1', handler);
  return {
    backend,
    ...(await fx.proxy(routeConfig({ v1: [backend.address] }, { targets: [{ version: 'v1', weight: 1 }] }))),
  };
}

/** Reads a response body while hashing it. */
async function hashOf(body: AsyncIterable<Buffer>): Promise<{ hash: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of body) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { hash: hash.digest('hex'), size };
}

/** A backend that pipes the request body straight back (not buffered by the fixture). */
async function echoBackend(): Promise<{ address: string }> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    req.pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fx.defer(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('echo backend has no port');
  return { address: `127.0.0.1:${address.port}` };
}

describe('streamed bodies', () => {
  it('passes a chunked multi-MB upload through intact', async () => {
    const { origin } = await oneBackend((_req, res, seen) =>
      res.end(`${seen.body.length} ${sha256(seen.body)}`),
    );
    const { stream, data } = randomStream(8 * MIB);
    const answer = await send(`${origin}/upload`, { method: 'POST', body: stream });
    expect(answer).toMatchObject({ status: 200, text: `${data.length} ${sha256(data)}` });
  });

  it('passes a multi-MB download through intact, keeping its content-length', async () => {
    const data = randomBytes(8 * MIB);
    const { origin } = await oneBackend((_req, res) => {
      res.writeHead(200, { 'content-length': String(data.length) });
      Readable.from(Array.from({ length: 128 }, (_, i) => data.subarray(i * 65536, (i + 1) * 65536))).pipe(
        res,
      );
    });
    const res = await request(`${origin}/download`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe(String(data.length));
    expect(await hashOf(res.body)).toEqual({ hash: sha256(data), size: data.length });
  });

  it('streams both ways at once (a backend echoing as it reads)', async () => {
    const { origin } = await fx.proxy(
      routeConfig({ v1: [(await echoBackend()).address] }, { targets: [{ version: 'v1', weight: 1 }] }),
    );
    const { stream, data } = randomStream(4 * MIB);
    const res = await request(`${origin}/echo`, { method: 'POST', body: stream });
    expect(res.statusCode).toBe(200);
    expect(await hashOf(res.body)).toEqual({ hash: sha256(data), size: data.length });
  });
});

describe('client side ends', () => {
  it('cancels the upstream exchange when the client goes away', async () => {
    let upstreamClosed = false;
    const { proxy, origin } = await oneBackend((req) => {
      req.socket.once('close', () => (upstreamClosed = true));
    });
    const controller = new AbortController();
    const pending = request(`${origin}/slow`, { signal: controller.signal }).catch((err: Error) => err.name);
    await waitFor('the request to be in flight', () => proxy.metrics.inFlight === 1);
    controller.abort();
    expect(await pending).toBe('AbortError');
    await waitFor('the upstream connection to close', () => upstreamClosed);
    await waitFor('no request in flight', () => proxy.metrics.inFlight === 0);
    expect(proxy.metrics.versionTraffic('shop', 'v1').totals.requests).toBe(1);
    // Recorded with nginx's 499 "client closed request".
    expect(sampleSum(proxy.metrics.render(), 'aviary_proxy_requests_total', { code: '499' })).toBe(1);
  });

  it('answers HEAD with the backend head and no body', async () => {
    const { origin } = await oneBackend((_req, res) => {
      res.writeHead(200, { 'content-length': '1000', 'content-type': 'text/plain' });
      res.end();
    });
    const res = await request(`${origin}/`, { method: 'HEAD' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe('1000');
    expect(await res.body.text()).toBe('');
  });
});

describe('graceful shutdown', () => {
  it('finishes requests in flight and refuses new connections', async () => {
    const held: ServerResponse[] = [];
    const backend = await fx.backend('v1', (_req, res) => {
      held.push(res);
    });
    // Started without the fixture: this test closes the router itself.
    const config = routeConfig({ v1: [backend.address] }, { targets: [{ version: 'v1', weight: 1 }] });
    config.limits = { drainTimeout: '1m' };
    const { proxy, origin, port } = await startProxy(config);
    const slow = send(`${origin}/slow`);
    await waitFor('the backend to hold the request', () => held.length === 1);

    let closed = false;
    const closing = proxy.close().then(() => (closed = true));
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    expect(refused).toBe('ECONNREFUSED');
    expect(closed).toBe(false);

    held[0]!.end('finished late');
    expect(await slow).toMatchObject({ status: 200, text: 'finished late' });
    await closing;
    expect(closed).toBe(true);
  });
});
