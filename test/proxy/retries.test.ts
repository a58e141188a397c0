/**
 * Retry policy through the real proxy: which outcomes are retried (App Mesh
 * `httpRetryEvents`/`tcpRetryEvents`, src/proxy/retry-policy.ts), on which endpoint, what the client
 * sees when tries run out, and which request bodies may be replayed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { BackendHandler, RouteInput } from './support.js';
import { closedAddress, routeConfig, sampleSum, send, useFixtures } from './support.js';

const fx = useFixtures();

/** Answers every request with `status`. */
function always(status: number): BackendHandler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(`status ${status}`);
  };
}

/** Answers the first `failures` requests with `status`, then 200 with the request body's hash. */
function failingFirst(failures: number, status: number): BackendHandler {
  let seen = 0;
  return (_req, res, request) => {
    if (++seen <= failures) {
      res.writeHead(status);
      res.end(`failure ${seen}`);
      return;
    }
    res.writeHead(200);
    res.end(request.body.length > 0 ? sha256(request.body) : 'ok');
  };
}

/** Closes the connection without answering. */
const resetting: BackendHandler = (req) => {
  req.socket.destroy();
};

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** One version `v1` over `endpoints`; outlier detection is off so every endpoint keeps being picked. */
async function router(endpoints: string[], route: Partial<RouteInput>) {
  return fx.proxy(
    routeConfig(
      { v1: endpoints },
      { targets: [{ version: 'v1', weight: 1 }], ...route },
      { outlierDetection: { consecutiveFailures: 1000 } },
    ),
  );
}

describe('retries across endpoints', () => {
  it('retries a 503 (gateway-error) on another endpoint and counts the retry', async () => {
    const bad = await fx.backend('bad', always(503));
    const good = await fx.backend('good');
    const { origin, proxy } = await router([bad.address, good.address], {
      retries: { attempts: 1, retryOn: 'gateway-error' },
    });
    for (let i = 0; i < 20; i++) {
      const answer = await send(`${origin}/`);
      expect(answer).toMatchObject({ status: 200, text: 'good' });
    }
    // Round-robin sends about every other first try to the bad endpoint.
    expect(bad.received()).toBeGreaterThan(0);
    expect(good.received()).toBe(20);
    const text = proxy.metrics.render();
    expect(sampleSum(text, 'aviary_proxy_retries_total', { service: 'shop', route: 'main' })).toBe(
      bad.received(),
    );
    expect(sampleSum(text, 'aviary_proxy_requests_total', { code: '200', endpoint: good.address })).toBe(20);
  });

  it('retries a connect failure on another endpoint', async () => {
    const dead = await closedAddress();
    const good = await fx.backend('good');
    const { origin, proxy } = await router([dead, good.address], { retries: { attempts: 1 } });
    for (let i = 0; i < 10; i++)
      expect(await send(`${origin}/`)).toMatchObject({ status: 200, text: 'good' });
    expect(sampleSum(proxy.metrics.render(), 'aviary_proxy_retries_total')).toBeGreaterThan(0);
  });

  it.each([
    { retryOn: 'client-error', status: 409 },
    { retryOn: '418', status: 418 },
    { retryOn: ['gateway-error', 429], status: 429 },
    { retryOn: '4xx', status: 404 },
  ])('retries status $status when retryOn is $retryOn', async ({ retryOn, status }) => {
    const backend = await fx.backend('v1', failingFirst(1, status));
    const { origin } = await router([backend.address], { retries: { attempts: 2, retryOn } });
    expect(await send(`${origin}/`)).toMatchObject({ status: 200, text: 'ok' });
    expect(backend.received()).toBe(2);
  });

  it('does not retry a status outside retryOn', async () => {
    const backend = await fx.backend('v1', failingFirst(1, 409));
    const { origin } = await router([backend.address], {
      retries: { attempts: 2, retryOn: 'gateway-error' },
    });
    expect(await send(`${origin}/`)).toMatchObject({ status: 409, text: 'failure 1' });
    expect(backend.received()).toBe(1);
  });
});

describe('when attempts run out', () => {
  it('returns the last upstream status after 1 + attempts tries', async () => {
    const backend = await fx.backend('v1', always(503));
    const { origin } = await router([backend.address], {
      retries: { attempts: 2, retryOn: 'gateway-error' },
    });
    expect(await send(`${origin}/`)).toMatchObject({ status: 503, text: 'status 503' });
    expect(backend.received()).toBe(3);
  });

  it('answers 503 naming the connect failure when no endpoint accepts', async () => {
    const { origin, proxy } = await router([await closedAddress(), await closedAddress()], {
      retries: { attempts: 3, retryOn: 'connect-failure' },
    });
    const answer = await send(`${origin}/`);
    expect(answer.status).toBe(503);
    expect(answer.text).toMatch(
      /^upstream connect error \(service shop, version v1, endpoint 127\.0\.0\.1:\d+\): ECONNREFUSED/,
    );
    expect(sampleSum(proxy.metrics.render(), 'aviary_proxy_retries_total')).toBe(3);
  });

  it('answers 502 after resets when every try is reset', async () => {
    const backend = await fx.backend('v1', resetting);
    const { origin } = await router([backend.address], { retries: { attempts: 1, retryOn: 'reset' } });
    const answer = await send(`${origin}/`);
    expect(answer.status).toBe(502);
    expect(answer.text).toContain('upstream connection reset before response');
    expect(backend.received()).toBe(2);
  });
});

describe('request bodies and replay', () => {
  it('replays a small POST with the identical body', async () => {
    const backend = await fx.backend('v1', failingFirst(1, 503));
    const { origin } = await router([backend.address], { retries: { attempts: 1, bufferBytes: 64 * 1024 } });
    const body = randomBytes(10_000);
    expect(await send(`${origin}/orders`, { method: 'POST', body })).toMatchObject({
      status: 200,
      text: sha256(body),
    });
    expect(backend.seen.map((r) => sha256(r.body))).toEqual([sha256(body), sha256(body)]);
  });

  it('replays a small chunked POST with the identical body', async () => {
    const backend = await fx.backend('v1', failingFirst(1, 503));
    const { origin } = await router([backend.address], { retries: { attempts: 1, bufferBytes: 64 * 1024 } });
    const parts = [randomBytes(1000), randomBytes(2000)];
    const answer = await send(`${origin}/orders`, { method: 'POST', body: Readable.from(parts) });
    expect(answer).toMatchObject({ status: 200, text: sha256(Buffer.concat(parts)) });
    expect(backend.seen).toHaveLength(2);
  });

  it.each([
    { label: 'chunked', stream: true },
    { label: 'with a content-length', stream: false },
  ])('never replays a POST bigger than bufferBytes ($label)', async ({ stream }) => {
    const backend = await fx.backend('v1', always(503));
    const { origin } = await router([backend.address], { retries: { attempts: 3, bufferBytes: 1024 } });
    const parts = Array.from({ length: 16 }, () => randomBytes(16 * 1024));
    const whole = Buffer.concat(parts);
    const answer = await send(`${origin}/upload`, {
      method: 'POST',
      body: stream ? Readable.from(parts) : whole,
    });
    expect(answer.status).toBe(503);
    expect(backend.received()).toBe(1);
    expect(sha256(backend.seen[0]!.body)).toBe(sha256(whole));
  });
});
