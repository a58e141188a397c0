/**
 * The one conformance suite every {@link TrafficRouter} passes. Each implementation calls
 * `runRouterConformance({ name, create, skip })`; a skipped case must say why.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppRouteSpec, TrafficRouter } from '../../src/router/traffic-router.js';

/** A router under test and the URL where its data plane answers. */
export interface RouterFixture {
  readonly router: TrafficRouter;
  readonly dataPlaneUrl: string;
  close(): Promise<void>;
}

/** Options of {@link runRouterConformance}. */
export interface RouterConformanceOptions {
  readonly name: string;
  readonly create: () => Promise<RouterFixture>;
  readonly skip?: readonly { readonly reason: string; readonly tests: readonly string[] }[];
}

interface Backend {
  readonly address: string;
  readonly hits: { path: string; host: string | undefined }[];
  readonly server: Server;
}

async function startBackend(name: string): Promise<Backend> {
  const hits: Backend['hits'] = [];
  const server = createServer((req, res) => {
    hits.push({ path: req.url ?? '', host: req.headers.host });
    res.end(name);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, hits, server };
}

async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const res = await request(url, { headers });
  return { status: res.statusCode, body: await res.body.text() };
}

async function countVersions(url: string, n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const { body } = await get(url);
    counts[body] = (counts[body] ?? 0) + 1;
  }
  return counts;
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Registers the shared router cases for one implementation. */
export function runRouterConformance(options: RouterConformanceOptions): void {
  const skipped = new Map<string, string>();
  for (const s of options.skip ?? []) for (const t of s.tests) skipped.set(t, s.reason);
  const test = (name: string, fn: () => Promise<void>): void => {
    const reason = skipped.get(name);
    if (reason !== undefined) it.skip(`${name} (skipped: ${reason})`, fn);
    else it(name, fn);
  };

  describe(`router conformance: ${options.name}`, () => {
    let fixture: RouterFixture;
    let v1: Backend;
    let v2: Backend;
    let spec: AppRouteSpec;
    const url = (path = '/'): string => `${fixture.dataPlaneUrl}${path}`;

    beforeEach(async () => {
      fixture = await options.create();
      v1 = await startBackend('v1');
      v2 = await startBackend('v2');
      spec = {
        app: 'shop',
        versions: [
          { name: 'v1', endpoints: [v1.address] },
          { name: 'v2', endpoints: [v2.address] },
        ],
      };
    });

    afterEach(async () => {
      await fixture.close();
      v1.server.close();
      v2.server.close();
    });

    test('reconcile sends all traffic to the first version', async () => {
      await fixture.router.reconcile(spec);
      expect(await countVersions(url(), 20)).toEqual({ v1: 20 });
      expect((await fixture.router.getRoutes('shop')).weights).toEqual({ v1: 100 });
    });

    test('setRoutes splits traffic and getRoutes reads it back', async () => {
      await fixture.router.reconcile(spec);
      await fixture.router.setRoutes('shop', { weights: { v1: 50, v2: 50 } });
      expect((await fixture.router.getRoutes('shop')).weights).toEqual({ v1: 50, v2: 50 });
      const counts = await countVersions(url(), 400);
      // Binomial(400, 0.5): below 140 or above 260 has probability < 1e-9.
      expect(counts.v1).toBeGreaterThan(140);
      expect(counts.v2).toBeGreaterThan(140);
      await fixture.router.setRoutes('shop', { weights: { v1: 0, v2: 100 } });
      expect(await countVersions(url(), 20)).toEqual({ v2: 20 });
    });

    test('mirror copies requests to the mirror version', async () => {
      await fixture.router.reconcile(spec);
      await fixture.router.setRoutes('shop', {
        weights: { v1: 100 },
        mirror: { version: 'v2', percent: 100 },
      });
      expect(await countVersions(url('/m'), 10)).toEqual({ v1: 10 });
      await until(() => v2.hits.length === 10, 'ten mirrored copies');
      expect((await fixture.router.getRoutes('shop')).mirror).toEqual({ version: 'v2', percent: 100 });
    });

    test('A/B rules send matching requests to the canary only', async () => {
      await fixture.router.reconcile(spec);
      await fixture.router.setRoutes('shop', {
        weights: { v1: 100 },
        abTesting: { version: 'v2', rules: [{ headers: [{ name: 'x-canary', exact: 'insider' }] }] },
      });
      expect((await get(url(), { 'x-canary': 'insider' })).body).toBe('v2');
      expect(await countVersions(url(), 20)).toEqual({ v1: 20 });
      const state = await fixture.router.getRoutes('shop');
      expect(state.abTesting?.version).toBe('v2');
      expect(state.abTesting?.rules[0]?.headers?.[0]).toMatchObject({ name: 'x-canary', exact: 'insider' });
    });

    test('reconcile keeps weights when endpoints change', async () => {
      await fixture.router.reconcile(spec);
      await fixture.router.setRoutes('shop', { weights: { v1: 0, v2: 100 } });
      const v2b = await startBackend('v2b');
      try {
        await fixture.router.reconcile({
          ...spec,
          versions: [spec.versions[0]!, { name: 'v2', endpoints: [v2b.address] }],
        });
        expect((await fixture.router.getRoutes('shop')).weights).toEqual({ v1: 0, v2: 100 });
        expect(await countVersions(url(), 10)).toEqual({ v2b: 10 });
      } finally {
        v2b.server.close();
      }
    });

    test('traffic is never sent to a version without endpoints', async () => {
      await fixture.router.reconcile({
        ...spec,
        versions: [spec.versions[0]!, { name: 'v2', endpoints: [] }],
      });
      await expect(fixture.router.setRoutes('shop', { weights: { v1: 50, v2: 50 } })).rejects.toMatchObject({
        code: 'AVIARY_ROUTE_NO_ENDPOINTS',
      });
      expect(await countVersions(url(), 10)).toEqual({ v1: 10 });
    });

    test('a weighted version that loses its endpoints loses its traffic on reconcile', async () => {
      await fixture.router.reconcile(spec);
      await fixture.router.setRoutes('shop', { weights: { v1: 50, v2: 50 } });
      await fixture.router.reconcile({
        ...spec,
        versions: [spec.versions[0]!, { name: 'v2', endpoints: [] }],
      });
      expect(await countVersions(url(), 10)).toEqual({ v1: 10 });
      expect((await fixture.router.getRoutes('shop')).weights).toEqual({ v1: 50 });
    });

    test('setRoutes before reconcile is refused', async () => {
      await expect(fixture.router.setRoutes('nope', { weights: { v1: 100 } })).rejects.toMatchObject({
        code: 'AVIARY_ROUTE_UNKNOWN_APP',
      });
    });

    test('finalize removes the routes', async () => {
      await fixture.router.reconcile(spec);
      await fixture.router.finalize('shop');
      expect((await get(url())).status).toBe(404);
      await expect(fixture.router.getRoutes('shop')).rejects.toMatchObject({
        code: 'AVIARY_ROUTE_UNKNOWN_APP',
      });
    });

    test('an aborted signal stops the call', async () => {
      const controller = new AbortController();
      controller.abort();
      await expect(fixture.router.reconcile(spec, controller.signal)).rejects.toThrow();
    });
  });
}
