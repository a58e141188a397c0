/**
 * What the `haproxy` router renders into each app's backend, seen through a real HAProxy:
 * retries on the App Mesh events the app names, the per-try and whole timeouts, latency per
 * version from the request log, and a sticky client leaving a version whose weight went to 0.
 * Backends that never answer stand in for slow ones, so no assertion depends on a duration.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RELATIVE_ACCURACY } from '../../src/analysis/latency-sketch.js';
import type { HaproxyEngine } from '../../src/router/haproxy/haproxy-engine.js';
import { startHaproxyEngine } from './haproxy-test-support.js';

/** A backend whose n-th request (from 1) is answered by `answer`; it counts its requests. */
interface ScriptedBackend {
  readonly address: string;
  requests: number;
}

describe('haproxy router backends', () => {
  let dir: string;
  let engine: HaproxyEngine;
  const servers: Server[] = [];

  async function backend(
    answer: (n: number, req: IncomingMessage, res: ServerResponse) => void,
  ): Promise<ScriptedBackend> {
    const scripted = { address: '', requests: 0 };
    const server = createServer((req, res) => answer(++scripted.requests, req, res));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    scripted.address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    return scripted;
  }

  /** Answers `status` with `body`; a status of 0 never answers. */
  const reply =
    (status: number, body: string) => (_n: number, _req: IncomingMessage, res: ServerResponse) => {
      if (status === 0) return;
      res.statusCode = status;
      res.end(body);
    };

  /**
   * One request on a new connection: after a reload, a connection kept alive from before
   * carries its next request to the old worker, under the old configuration.
   */
  const get = async (headers: Record<string, string> = {}) => {
    const dispatcher = new Agent();
    try {
      const res = await request(`${engine.address}/`, { headers, dispatcher });
      return { status: res.statusCode, body: await res.body.text(), headers: res.headers };
    } finally {
      await dispatcher.close();
    }
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aviary-hx-'));
    engine = await startHaproxyEngine(dir);
  });

  afterEach(async () => {
    await engine.close();
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      server.close();
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('retries a 503 when retryOn names it, and not without retries', async () => {
    const flaky = await backend((n, req, res) => reply(n === 1 ? 503 : 200, `try ${n}`)(n, req, res));
    await engine.router.reconcile({
      app: 'shop',
      retries: { attempts: 2, retryOn: ['gateway-error'] },
      versions: [{ name: 'v1', endpoints: [flaky.address] }],
    });
    expect(await get()).toMatchObject({ status: 200, body: 'try 2' });
    expect(flaky.requests).toBe(2);

    const failing = await backend(reply(503, 'down'));
    await engine.router.reconcile({ app: 'shop', versions: [{ name: 'v1', endpoints: [failing.address] }] });
    expect((await get()).status).toBe(503);
    expect(failing.requests).toBe(1);
  });

  it('stops retrying after attempts, answering the last try', async () => {
    const failing = await backend(reply(503, 'down'));
    await engine.router.reconcile({
      app: 'shop',
      retries: { attempts: 2, retryOn: ['5xx'] },
      versions: [{ name: 'v1', endpoints: [failing.address] }],
    });
    expect((await get()).status).toBe(503);
    expect(failing.requests).toBe(3);
  });

  it('answers 504 when the version does not answer within the timeout', async () => {
    const silent = await backend(reply(0, ''));
    await engine.router.reconcile({
      app: 'shop',
      timeoutMs: 200,
      versions: [{ name: 'v1', endpoints: [silent.address] }],
    });
    expect((await get()).status).toBe(504);
    expect(silent.requests).toBe(1);
  });

  it('retries a try that outlives the per-try timeout when retryOn names per-try-timeout', async () => {
    const slowFirst = await backend((n, req, res) => reply(n === 1 ? 0 : 200, `try ${n}`)(n, req, res));
    await engine.router.reconcile({
      app: 'shop',
      timeoutMs: 30_000,
      retries: { attempts: 1, perTryTimeoutMs: 200, retryOn: ['per-try-timeout'] },
      versions: [{ name: 'v1', endpoints: [slowFirst.address] }],
    });
    expect(await get()).toMatchObject({ status: 200, body: 'try 2' });
    expect(slowFirst.requests).toBe(2);
  });

  it('records each version’s latency from the request log', async () => {
    const slow = await backend((_n, _req, res) => setTimeout(() => res.end('slow'), 150));
    const fast = await backend(reply(200, 'fast'));
    await engine.router.reconcile({
      app: 'shop',
      versions: [
        { name: 'v1', endpoints: [fast.address] },
        { name: 'v2', endpoints: [slow.address] },
      ],
    });
    await engine.router.setRoutes('shop', { weights: { v1: 50, v2: 50 } });
    for (let i = 0; i < 10; i++) await get();
    const query = (version: string) =>
      engine.observer.observe('request-duration', {
        app: 'shop',
        version,
        intervalMs: 60_000,
        nowMs: Date.now() + 1000,
      });
    const deadline = Date.now() + 10_000;
    while ((await query('v1')).sampleSize + (await query('v2')).sampleSize < 10) {
      if (Date.now() > deadline) throw new Error('timed out waiting for ten logged requests');
      await new Promise((r) => setTimeout(r, 20));
    }
    const slowDuration = await query('v2');
    expect(slowDuration.sampleSize).toBe(slow.requests);
    // The slow version waited 150 ms before answering: its P99 cannot be less, within the
    // latency sketch's relative accuracy.
    expect(slowDuration.value).toBeGreaterThanOrEqual(150 * (1 - RELATIVE_ACCURACY));
    expect((await query('v1')).sampleSize).toBe(fast.requests);
  });

  it('moves a sticky client off its version when that version’s weight goes to 0', async () => {
    const v1 = await backend(reply(200, 'v1'));
    const v2 = await backend(reply(200, 'v2'));
    await engine.router.reconcile({
      app: 'shop',
      sessionAffinity: { cookieName: 'shop-version', maxAgeSeconds: 60 },
      versions: [
        { name: 'v1', endpoints: [v1.address] },
        { name: 'v2', endpoints: [v2.address] },
      ],
    });
    await engine.router.setRoutes('shop', { weights: { v1: 0, v2: 100 } });
    const pinned = await get();
    expect(pinned.body).toBe('v2');
    const cookie = String(pinned.headers['set-cookie']).split(';')[0]!;
    await engine.router.setRoutes('shop', { weights: { v1: 50, v2: 50 } });
    for (let i = 0; i < 10; i++) expect((await get({ cookie })).body).toBe('v2');
    await engine.router.setRoutes('shop', { weights: { v1: 100, v2: 0 } });
    const moved = await get({ cookie });
    expect(moved.body).toBe('v1');
    expect(String(moved.headers['set-cookie'])).toMatch(/^shop-version=v1:0/);
  });
});
