/**
 * The `haproxy` router against a real HAProxy: weight and endpoint changes without a reload
 * and without a failed request under load, sticky sessions, the request log as traffic
 * windows, and the bad states (a configuration HAProxy refuses, no executable).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect as connectHttp2, createServer as createHttp2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool, request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HaproxyEngine } from '../../src/router/haproxy/haproxy-engine.js';
import type { AppRouteSpec } from '../../src/router/traffic-router.js';
import { startHaproxyEngine } from './haproxy-test-support.js';

interface Backend {
  readonly address: string;
  readonly server: Server;
}

async function startBackend(name: string, status = 200): Promise<Backend> {
  const server = createServer((_req, res) => {
    res.statusCode = status;
    res.end(name);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** 20 keep-alive clients sending GETs back to back until stopped; an answer not from `bodies` is a failure. */
function loadOf(url: string, bodies: readonly string[]) {
  const pool = new Pool(url, { connections: 20, pipelining: 1 });
  let done = false;
  const seen = { ok: 0, failed: [] as string[] };
  const client = async () => {
    while (!done) {
      try {
        const res = await pool.request({ path: '/', method: 'GET' });
        const body = await res.body.text();
        if (res.statusCode === 200 && bodies.includes(body)) seen.ok++;
        else seen.failed.push(`${res.statusCode} ${body}`);
      } catch (err) {
        seen.failed.push((err as Error).message);
      }
    }
  };
  const clients = Array.from({ length: 20 }, client);
  return {
    seen,
    stop: async () => {
      done = true;
      await Promise.all(clients);
      await pool.close();
    },
  };
}

describe('haproxy router', () => {
  let dir: string;
  let engine: HaproxyEngine;
  let backends: Backend[];
  let spec: AppRouteSpec;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aviary-hx-'));
    engine = await startHaproxyEngine(dir);
    backends = [await startBackend('v1'), await startBackend('v2'), await startBackend('v2b')];
    spec = {
      app: 'shop',
      versions: [
        { name: 'v1', endpoints: [backends[0]!.address] },
        { name: 'v2', endpoints: [backends[1]!.address] },
      ],
    };
  });

  afterEach(async () => {
    await engine.close();
    for (const b of backends) b.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const get = async (path = '/', headers: Record<string, string> = {}) => {
    const res = await request(`${engine.address}${path}`, { headers });
    return { status: res.statusCode, body: await res.body.text(), headers: res.headers };
  };

  it('makes 200 weight changes under 20 concurrent keep-alive clients with no failed request and no reload', async () => {
    await engine.router.reconcile(spec);
    const reloads = engine.router.reloads;
    const workerPid = engine.haproxy.workerPid;
    const load = loadOf(engine.address, ['v1', 'v2']);
    const seen = load.seen;
    try {
      await until(() => seen.ok > 100, 'load to flow');
      for (let i = 0; i < 200; i++) {
        const canary = (i * 37) % 101;
        await engine.router.setRoutes('shop', { weights: { v1: 100 - canary, v2: canary } });
      }
      const atEnd = seen.ok;
      await until(() => seen.ok > atEnd + 100, 'load after the last change');
    } finally {
      await load.stop();
    }
    expect(seen.failed).toEqual([]);
    expect(seen.ok).toBeGreaterThan(200);
    expect(engine.router.reloads).toBe(reloads);
    expect(engine.haproxy.workerPid).toBe(workerPid);
    expect((await engine.router.getRoutes('shop')).weights).toEqual({
      v1: 100 - ((199 * 37) % 101),
      v2: (199 * 37) % 101,
    });
  });

  it('reloads seamlessly: 10 structure changes under 20 keep-alive clients with no failed request', async () => {
    await engine.router.reconcile(spec);
    await engine.router.setRoutes('shop', { weights: { v1: 50, v2: 50 } });
    const reloads = engine.router.reloads;
    const load = loadOf(engine.address, ['v1', 'v2']);
    try {
      await until(() => load.seen.ok > 100, 'load to flow');
      for (let i = 0; i < 10; i++) {
        const rules = i % 2 === 0 ? [{ headers: [{ name: 'x-canary', exact: `r${i}` }] }] : [];
        await engine.router.setRoutes('shop', {
          weights: { v1: 50, v2: 50 },
          ...(rules.length > 0 ? { abTesting: { version: 'v2', rules } } : {}),
        });
        const atChange = load.seen.ok;
        await until(() => load.seen.ok > atChange + 50, 'load after a reload');
      }
    } finally {
      await load.stop();
    }
    expect(load.seen.failed).toEqual([]);
    expect(engine.router.reloads).toBe(reloads + 10);
  });

  it('moves an endpoint through the Runtime API and reloads only when the slots run out', async () => {
    await engine.router.reconcile(spec);
    await engine.router.setRoutes('shop', { weights: { v1: 0, v2: 100 } });
    const reloads = engine.router.reloads;
    await engine.router.reconcile({
      ...spec,
      versions: [spec.versions[0]!, { name: 'v2', endpoints: [backends[2]!.address] }],
    });
    expect((await get()).body).toBe('v2b');
    expect(engine.router.reloads).toBe(reloads);
    const five = Array.from({ length: 5 }, (_, i) => `127.0.0.1:${40_000 + i}`);
    await engine.router.reconcile({
      ...spec,
      versions: [spec.versions[0]!, { name: 'v2', endpoints: [backends[2]!.address, ...five] }],
    });
    expect(engine.router.reloads).toBe(reloads + 1);
  });

  it('keeps a client on its version with the sticky cookie', async () => {
    await engine.router.reconcile({
      ...spec,
      sessionAffinity: { cookieName: 'shop-version', maxAgeSeconds: 60 },
    });
    await engine.router.setRoutes('shop', { weights: { v1: 50, v2: 50 } });
    const first = await get();
    const cookie = String(first.headers['set-cookie']).split(';')[0]!;
    expect(cookie).toMatch(/^shop-version=v[12]:0$/);
    for (let i = 0; i < 10; i++) expect((await get('/', { cookie })).body).toBe(first.body);
  });

  it('counts requests, 5xx and latency per version from the request log', async () => {
    const failing = await startBackend('v2', 503);
    backends.push(failing);
    await engine.router.reconcile({
      ...spec,
      versions: [spec.versions[0]!, { name: 'v2', endpoints: [failing.address] }],
    });
    await engine.router.setRoutes('shop', { weights: { v1: 50, v2: 50 } });
    for (let i = 0; i < 20; i++) await get();
    const windows = engine.traffic;
    const read = async (version: string) =>
      (await windows.buckets('shop', version, Date.now() - 60_000, Date.now() + 1000, 61_000))[0]!;
    await until(
      async () => (await read('v1')).requests + (await read('v2')).requests === 20,
      'twenty logged requests',
    );
    expect((await read('v1')).errors5xx).toBe(0);
    expect((await read('v2')).errors5xx).toBe((await read('v2')).requests);
    const rate = await engine.observer.observe('request-success-rate', {
      app: 'shop',
      version: 'v2',
      intervalMs: 60_000,
      nowMs: Date.now() + 1000,
    });
    expect(rate).toMatchObject({ value: 0, sampleSize: 10 });
    const metrics = await engine.metricsText();
    expect(metrics).toContain('haproxy_server_http_responses_total');
    expect(metrics).toContain('aviary_haproxy_request_log_lines_total 20');
  });

  it('refuses a configuration HAProxy refuses, with its message, and keeps serving the last good one', async () => {
    await engine.router.reconcile(spec);
    const workerPid = engine.haproxy.workerPid;
    const refused = engine.router.setRoutes('shop', {
      weights: { v1: 100 },
      abTesting: { version: 'v2', rules: [{ headers: [{ name: 'x-canary', regex: '(unclosed' }] }] },
    });
    await expect(refused).rejects.toMatchObject({
      code: 'AVIARY_ROUTER_CONFIG',
      message: expect.stringMatching(/HAProxy refused.*\n.*regex/s),
    });
    expect(engine.haproxy.workerPid).toBe(workerPid);
    expect((await engine.router.getRoutes('shop')).abTesting).toBeUndefined();
    expect((await get('/', { 'x-canary': 'unclosed' })).body).toBe('v1');
    await engine.router.setRoutes('shop', { weights: { v1: 0, v2: 100 } });
    expect((await get()).body).toBe('v2');
  });

  it('starts HAProxy again on the current routes when its master is killed', async () => {
    await engine.router.reconcile(spec);
    await engine.router.setRoutes('shop', { weights: { v1: 0, v2: 100 } });
    const killed = engine.pid!;
    process.kill(killed, 'SIGKILL');
    await until(async () => {
      if (engine.pid === killed) return false;
      return (await get().catch(() => ({ body: '' }))).body === 'v2';
    }, 'HAProxy started again with v2 at 100 %');
    await engine.router.setRoutes('shop', { weights: { v1: 100, v2: 0 } });
    expect((await get()).body).toBe('v1');
  });

  it('speaks HTTP/2 (h2c) to versions of an http2 app, HTTP/1.1 or h2c to clients', async () => {
    const h2 = createHttp2Server((req, res) => res.end(`h2 ${req.httpVersion}`));
    await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
    try {
      const address = `127.0.0.1:${(h2.address() as AddressInfo).port}`;
      await engine.router.reconcile({
        app: 'grpc',
        http2: true,
        versions: [{ name: 'v1', endpoints: [address] }],
      });
      expect((await get()).body).toBe('h2 2.0');
      const session = connectHttp2(engine.address);
      try {
        const body = await new Promise<string>((resolve, reject) => {
          const stream = session.request({ ':path': '/' });
          let text = '';
          stream.setEncoding('utf8');
          stream.on('data', (chunk: string) => (text += chunk));
          stream.on('end', () => resolve(text));
          stream.on('error', reject);
        });
        expect(body).toBe('h2 2.0');
      } finally {
        session.close();
      }
    } finally {
      h2.close();
    }
  });

  it('refuses mirroring, which HAProxy 2.6 cannot do without an SPOE agent', async () => {
    await engine.router.reconcile(spec);
    await expect(
      engine.router.setRoutes('shop', { weights: { v1: 100 }, mirror: { version: 'v2', percent: 10 } }),
    ).rejects.toMatchObject({
      code: 'AVIARY_ROUTER_CONFIG',
      message: expect.stringContaining('mirroring to v2 is not supported by the haproxy router'),
    });
  });
});

describe('haproxy router without HAProxy', () => {
  it('names router.binary when the executable is missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'aviary-hx-'));
    try {
      await expect(startHaproxyEngine(dir, { binary: 'haproxy-not-installed' })).rejects.toMatchObject({
        code: 'AVIARY_ROUTER_CONFIG',
        message: expect.stringMatching(
          /^router\.binary: HAProxy executable "haproxy-not-installed" not found/,
        ),
      });
      await expect(startHaproxyEngine(dir, { binary: join(dir, 'haproxy') })).rejects.toMatchObject({
        message: expect.stringContaining(
          `router.binary: HAProxy executable "${join(dir, 'haproxy')}" not found`,
        ),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
