/**
 * Route timeouts (App Mesh `perRequest` and `idle`, Flagger `timeout` and
 * `retries.perTryTimeout`) through the real router against stalling backends.
 */
import type { ServerResponse } from 'node:http';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import type { BackendHandler, RouteInput } from './support.js';
import { routeConfig, sampleSum, send, useFixtures } from './support.js';

const fx = useFixtures();

/** Never answers; the response objects are kept so the test can finish them. */
function stalling(held: ServerResponse[] = []): BackendHandler {
  return (_req, res) => {
    held.push(res);
  };
}

/** Sends the head and the first bytes of a longer body, then stalls. */
const stallsMidBody: BackendHandler = (_req, res) => {
  res.writeHead(200, { 'content-length': '1000' });
  res.write('x'.repeat(100));
};

async function router(endpoints: string[], route: Partial<RouteInput>) {
  return fx.proxy(routeConfig({ v1: endpoints }, { targets: [{ version: 'v1', weight: 1 }], ...route }));
}

describe('request timeout', () => {
  it('answers 504 with a body naming the timeout when the backend never answers', async () => {
    const backend = await fx.backend('v1', stalling());
    const { origin, proxy } = await router([backend.address], { timeout: '150ms' });
    const answer = await send(`${origin}/slow`);
    expect(answer.status).toBe(504);
    expect(answer.text).toMatch(
      /^upstream request timeout \(service shop, version v1, endpoint 127\.0\.0\.1:\d+\)/,
    );
    expect(answer.text).toContain('no complete answer within 150 ms');
    expect(sampleSum(proxy.metrics.render(), 'aviary_proxy_upstream_errors_total', { kind: 'timeout' })).toBe(
      1,
    );
  });

  it('cuts a response whose body is still streaming when the timeout expires', async () => {
    const backend = await fx.backend('v1', stallsMidBody);
    const { origin } = await router([backend.address], { timeout: '150ms' });
    const res = await request(`${origin}/`);
    expect(res.statusCode).toBe(200);
    await expect(res.body.text()).rejects.toThrow();
  });
});

describe('per-try timeout', () => {
  it('retries a slow endpoint on a fast one', async () => {
    const held: ServerResponse[] = [];
    const slow = await fx.backend('slow', stalling(held));
    const fast = await fx.backend('fast');
    // Round-robin alternates, so of three requests at least one tries the slow endpoint first.
    // The per-try timeout leaves the fast endpoint ample time even on a loaded machine.
    const { origin } = await router([slow.address, fast.address], {
      retries: { attempts: 2, perTryTimeout: '500ms', retryOn: 'per-try-timeout' },
    });
    for (let i = 0; i < 3; i++) expect(await send(`${origin}/`)).toMatchObject({ status: 200, text: 'fast' });
    expect(slow.received()).toBeGreaterThan(0);
    expect(fast.received()).toBe(3);
  });

  it('answers 504 when every try times out', async () => {
    const backend = await fx.backend('v1', stalling());
    const { origin } = await router([backend.address], {
      retries: { attempts: 2, perTryTimeout: '50ms', retryOn: 'gateway-error' },
    });
    expect((await send(`${origin}/`)).status).toBe(504);
    expect(backend.received()).toBe(3);
  });
});

describe('idle timeout', () => {
  it('cuts a response when the backend stalls mid-body', async () => {
    const backend = await fx.backend('v1', stallsMidBody);
    const { origin, proxy } = await router([backend.address], { idleTimeout: '150ms' });
    const res = await request(`${origin}/`);
    expect(res.statusCode).toBe(200);
    await expect(res.body.text()).rejects.toThrow();
    expect(sampleSum(proxy.metrics.render(), 'aviary_proxy_upstream_errors_total', { kind: 'timeout' })).toBe(
      1,
    );
  });

  it('answers 504 when the backend sends nothing at all', async () => {
    const backend = await fx.backend('v1', stalling());
    const { origin } = await router([backend.address], { idleTimeout: '150ms' });
    const answer = await send(`${origin}/`);
    expect(answer.status).toBe(504);
    expect(answer.text).toContain('upstream request timeout');
  });
});
