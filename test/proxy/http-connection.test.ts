/**
 * Connection-level HTTP behaviour of the router: hop-by-hop fields (RFC 9110 §7.6.1) in
 * both directions, the 431 for oversized heads, keep-alive reuse on both sides and
 * WebSocket pass-through (RFC 6455 over RFC 9110 §7.8 Upgrade).
 */
import { request as httpRequest, Agent as HttpAgent } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { parseRawAnswer, rawExchange } from './raw-http.js';
import { inParallel, routeConfig, send, useFixtures, waitFor } from './support.js';

const fx = useFixtures();

async function oneBackend(handler?: Parameters<typeof fx.backend>[1], limits?: Record<string, number>) {
  const backend = await fx.backend('v1', handler);
  const config = routeConfig({ v1: [backend.address] }, { targets: [{ version: 'v1', weight: 1 }] });
  if (limits) config.limits = { ...config.limits, ...limits };
  return { backend, ...(await fx.proxy(config)) };
}

describe('hop-by-hop fields', () => {
  it('strips them, and the fields Connection names, before the backend', async () => {
    const { backend, port } = await oneBackend();
    const raw = await rawExchange(
      port,
      [
        'GET /hop HTTP/1.1',
        'Host: shop.example.com',
        'Connection: close, X-Secret',
        'Keep-Alive: timeout=99',
        'TE: trailers',
        'Trailer: x-checksum',
        'Upgrade: h2c',
        'Proxy-Authorization: Basic c2VjcmV0',
        'Proxy-Connection: keep-alive',
        'X-Secret: for-this-hop-only',
        'X-Normal: kept',
        '',
        '',
      ].join('\r\n'),
    );
    expect(parseRawAnswer(raw)).toMatchObject({ status: 200, body: 'v1' });
    const headers = backend.seen[0]!.headers;
    expect(headers['x-normal']).toBe('kept');
    for (const name of [
      'keep-alive',
      'te',
      'trailer',
      'upgrade',
      'proxy-authorization',
      'proxy-connection',
      'x-secret',
    ]) {
      expect(headers[name], name).toBeUndefined();
    }
    // The upstream hop has its own connection management; nothing of the client's survives.
    expect(headers.connection ?? 'keep-alive').toBe('keep-alive');
  });

  it('strips them, and the fields Connection names, from responses', async () => {
    const { port } = await oneBackend((_req, res) => {
      res.writeHead(200, {
        connection: 'keep-alive, X-Backend-Hop',
        'keep-alive': 'timeout=99, max=7',
        'x-backend-hop': 'secret',
        'proxy-authenticate': 'Basic realm="backend"',
        upgrade: 'h2c',
        'x-normal': 'kept',
      });
      res.end('body');
    });
    const answer = parseRawAnswer(
      await rawExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
    );
    expect(answer).toMatchObject({ status: 200, body: 'body' });
    expect(answer.headers.get('x-normal')).toBe('kept');
    for (const name of ['x-backend-hop', 'proxy-authenticate', 'upgrade'])
      expect(answer.headers.get(name), name).toBeUndefined();
    expect(answer.headers.get('keep-alive') ?? '').not.toContain('max=7');
    expect(answer.headers.get('connection')).toBe('close');
  });
});

describe('oversized request heads', () => {
  it('answers 431 and keeps serving', async () => {
    const { backend, port, origin } = await oneBackend(undefined, { maxHeaderBytes: 4096 });
    const raw = await rawExchange(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8192)}\r\n\r\n`);
    expect(parseRawAnswer(raw).status).toBe(431);
    expect(backend.received()).toBe(0);
    expect(await send(`${origin}/`, { headers: { 'x-small': 'a'.repeat(1000) } })).toMatchObject({
      status: 200,
      text: 'v1',
    });
  });
});

describe('listeners added at runtime', () => {
  it('open with the limits of the configuration that adds them', async () => {
    const { proxy } = await oneBackend();
    const next = structuredClone(proxy.config) as unknown as {
      listeners: { name: string; host: string; port: number }[];
      limits: Record<string, unknown>;
    };
    next.listeners.push({ name: 'strict', host: '127.0.0.1', port: 0 });
    next.limits = { ...next.limits, maxHeaderBytes: 4096 };
    expect(await proxy.applyConfig(next)).toMatchObject({ ok: true });
    const raw = await rawExchange(
      proxy.address('strict').port,
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(6000)}\r\n\r\n`,
    );
    expect(parseRawAnswer(raw).status).toBe(431);
  });

  it('are not left open by a change refused for moving another listener', async () => {
    const { proxy } = await oneBackend();
    const next = structuredClone(proxy.config) as unknown as {
      listeners: { name: string; host: string; port: number }[];
    };
    const moved = { ...next.listeners[0]!, port: 1 };
    next.listeners = [{ name: 'extra', host: '127.0.0.1', port: 0 }, moved];
    expect(await proxy.applyConfig(next)).toMatchObject({ ok: false, issues: [{ path: 'listeners' }] });
    expect(() => proxy.address('extra')).toThrow(/listener "extra" is not running/);
  });
});

describe('keep-alive', () => {
  it('reuses one client socket for many requests and few backend connections', async () => {
    const { backend, port } = await oneBackend();
    const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
    fx.defer(() => agent.destroy());
    const sockets = new Set<Socket>();
    for (let i = 0; i < 50; i++) {
      const body = await new Promise<string>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: `/${i}`, agent }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve(text));
        });
        req.on('socket', (socket) => sockets.add(socket));
        req.on('error', reject);
        req.end();
      });
      expect(body).toBe('v1');
    }
    expect(sockets.size).toBe(1);
    expect(backend.connections()).toBe(1);
  });

  it('keeps backend connections at or below the client concurrency', async () => {
    const { backend, origin } = await oneBackend();
    const client = fx.client(8);
    await inParallel(400, 8, async () => {
      expect((await send(`${origin}/`, { dispatcher: client })).status).toBe(200);
    });
    expect(backend.received()).toBe(400);
    expect(backend.connections()).toBeLessThanOrEqual(8);
  });
});

describe('WebSocket', () => {
  it('passes an upgraded connection through both ways', async () => {
    const upgradeHeaders: Record<string, string | string[] | undefined>[] = [];
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', resolve));
    fx.defer(() => new Promise<void>((resolve) => server.close(() => resolve())));
    server.on('connection', (socket, req) => {
      upgradeHeaders.push(req.headers);
      socket.on('message', (data, binary) =>
        socket.send(binary ? data : `echo:${(data as Buffer).toString()}`, { binary }),
      );
    });
    const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { port } = await fx.proxy(
      routeConfig({ ws: [address] }, { targets: [{ version: 'ws', weight: 1 }] }),
    );

    const client = new WebSocket(`ws://127.0.0.1:${port}/chat`);
    fx.defer(() => client.terminate());
    const received: (string | Buffer)[] = [];
    client.on('message', (data, binary) =>
      received.push(binary ? (data as Buffer) : (data as Buffer).toString()),
    );
    await new Promise<void>((resolve, reject) => {
      client.once('open', resolve);
      client.once('error', reject);
    });
    const binary = Buffer.from([0, 1, 2, 250, 255]);
    client.send('hello');
    client.send('world');
    client.send(binary);
    await waitFor('three echoes', () => received.length === 3);
    expect(received).toEqual(['echo:hello', 'echo:world', binary]);
    expect(upgradeHeaders[0]?.['x-forwarded-for']).toBe('127.0.0.1');
    const closed = new Promise<number>((resolve) => client.once('close', (code) => resolve(code)));
    client.close(1000, 'done');
    expect(await closed).toBe(1000);
  });
});
