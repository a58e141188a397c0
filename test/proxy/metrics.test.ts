/**
 * The router's metrics after real traffic: the Prometheus text (requests by code, upstream
 * errors by kind, latency histograms per service/route/version/endpoint) and the in-process
 * read API the analysis engine uses (exact counters, latency sketches).
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { proxyConfigSchema } from '../../src/config/proxy-schema.js';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { ProxyMetrics } from '../../src/proxy/stats/proxy-metrics.js';
import {
  closedAddress,
  inParallel,
  sampleSum,
  send,
  shopConfig,
  useFixtures,
  type BackendHandler,
} from './support.js';

const fx = useFixtures();

/** Answers with the status named by the last path segment (`/status/404`). */
const statusFromPath: BackendHandler = (req, res) => {
  res.writeHead(Number(req.url?.split('/').pop()) || 200);
  res.end('status');
};

function route(name: string, prefix: string, version: string, extra: Record<string, unknown> = {}) {
  return { name, match: { path: { prefix } }, targets: [{ version, weight: 1 }], ...extra };
}

describe('Prometheus exposition', () => {
  it('counts requests by code, upstream errors by kind and latency per series', async () => {
    const ok = await fx.backend('ok', statusFromPath);
    const stalling = await fx.backend('stalling', () => {});
    const resetting = await fx.backend('resetting', (req) => req.socket.destroy());
    const dead = await closedAddress();
    const config = shopConfig(
      [
        { name: 'v1', endpoints: [ok.address] },
        { name: 'dead', endpoints: [dead] },
        { name: 'slow', endpoints: [stalling.address] },
        { name: 'flaky', endpoints: [resetting.address] },
      ],
      [
        route('status', '/status', 'v1'),
        route('connect', '/connect', 'dead'),
        route('timeout', '/timeout', 'slow', { timeout: '100ms' }),
        route('reset', '/reset', 'flaky'),
      ],
    );
    const { proxy, origin } = await fx.proxy(config);
    for (const [path, times] of [
      ['/status/200', 3],
      ['/status/404', 2],
      ['/status/503', 1],
      ['/connect', 2],
      ['/timeout', 1],
      ['/reset', 1],
    ] as const) {
      for (let i = 0; i < times; i++) await send(`${origin}${path}`);
    }
    const text = proxy.metrics.render();
    const series = { service: 'shop', route: 'status', version: 'v1', endpoint: ok.address };
    expect(sampleSum(text, 'aviary_proxy_requests_total', { ...series, code: '200' })).toBe(3);
    expect(sampleSum(text, 'aviary_proxy_requests_total', { ...series, code: '404' })).toBe(2);
    expect(sampleSum(text, 'aviary_proxy_requests_total', { ...series, code: '503' })).toBe(1);
    const errors = (routeName: string, kind: string): number =>
      sampleSum(text, 'aviary_proxy_upstream_errors_total', { service: 'shop', route: routeName, kind });
    expect(errors('connect', 'connect')).toBe(2);
    expect(errors('timeout', 'timeout')).toBe(1);
    expect(errors('reset', 'reset')).toBe(1);
    expect(errors('status', 'connect') + errors('status', 'timeout') + errors('status', 'reset')).toBe(0);
    expect(
      sampleSum(text, 'aviary_proxy_requests_total', { route: 'connect', endpoint: dead, code: '503' }),
    ).toBe(2);
    expect(sampleSum(text, 'aviary_proxy_requests_total', { route: 'timeout', code: '504' })).toBe(1);
    expect(sampleSum(text, 'aviary_proxy_requests_total', { route: 'reset', code: '502' })).toBe(1);

    // Histogram: cumulative buckets ending in +Inf = _count, per series.
    const buckets = text
      .split('\n')
      .filter(
        (l) =>
          l.startsWith('aviary_proxy_request_duration_seconds_bucket{') &&
          l.includes(`endpoint="${ok.address}"`),
      )
      .map((l) => Number(l.split(' ').pop()));
    expect(buckets.length).toBeGreaterThan(2);
    buckets.forEach((n, i) => expect(n).toBeGreaterThanOrEqual(buckets[i - 1] ?? 0));
    expect(buckets.at(-1)).toBe(6);
    expect(sampleSum(text, 'aviary_proxy_request_duration_seconds_bucket', { ...series, le: '+Inf' })).toBe(
      6,
    );
    expect(sampleSum(text, 'aviary_proxy_request_duration_seconds_count', series)).toBe(6);
    expect(sampleSum(text, 'aviary_proxy_request_duration_seconds_sum', series)).toBeGreaterThan(0);
    // The timed-out request took at least its 100 ms timeout: it is in no bucket below 0.1 s.
    const timedOut = { route: 'timeout', version: 'slow' };
    expect(sampleSum(text, 'aviary_proxy_request_duration_seconds_bucket', { ...timedOut, le: '0.05' })).toBe(
      0,
    );
    expect(sampleSum(text, 'aviary_proxy_request_duration_seconds_count', timedOut)).toBe(1);
    expect(sampleSum(text, 'aviary_proxy_config_generation')).toBe(1);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('counts requests that match no route by listener', async () => {
    const ok = await fx.backend('ok');
    const { proxy, origin } = await fx.proxy({
      listeners: [{ port: 0 }],
      services: [
        {
          name: 'shop',
          versions: [{ name: 'v1', endpoints: [ok.address] }],
          routes: [route('api', '/api', 'v1')],
        },
      ],
    });
    await send(`${origin}/elsewhere`);
    await send(`${origin}/elsewhere`);
    expect(sampleSum(proxy.metrics.render(), 'aviary_proxy_no_route_total', { listener: 'default' })).toBe(2);
  });
});

describe('series of endpoints and versions gone from the configuration', () => {
  it('are exported for the retention period after their last use, then forgotten', async () => {
    const [first, second] = [await fx.backend('first'), await fx.backend('second')];
    let now = 1_000_000;
    const metrics = new ProxyMetrics(undefined, { retainUnusedMs: 600_000, now: () => now });
    // A release: the version moves to a new endpoint (a new port), and an old version goes.
    const config = (v1: string, withV0: boolean) =>
      shopConfig(
        [{ name: 'v1', endpoints: [v1] }, ...(withV0 ? [{ name: 'v0', endpoints: [v1] }] : [])],
        [route('old', '/old', withV0 ? 'v0' : 'v1'), route('main', '/', 'v1')],
      );
    const proxy = new ProxyServer(proxyConfigSchema.parse(config(first.address, true)), { metrics });
    fx.defer(() => proxy.close());
    await proxy.start();
    const origin = `http://127.0.0.1:${proxy.address().port}`;
    await send(`${origin}/`);
    await send(`${origin}/old`);
    expect((await proxy.applyConfig(config(second.address, false))).ok).toBe(true);
    await send(`${origin}/`);
    const requests = (endpoint: string): number =>
      sampleSum(proxy.metrics.render(), 'aviary_proxy_requests_total', { route: 'main', endpoint });
    // Still scraped for a while: its last counts are not lost to a scrape that comes late.
    now += 599_999;
    expect(requests(first.address)).toBe(1);
    expect(metrics.versionTraffic('shop', 'v0').totals.requests).toBe(1);
    now += 1;
    expect(requests(first.address)).toBe(0);
    expect(requests(second.address)).toBe(1);
    expect(metrics.versionTraffic('shop', 'v0').totals.requests).toBe(0);
    expect(metrics.versionTraffic('shop', 'v1').totals.requests).toBe(2);
  });
});

describe('in-process read API', () => {
  it('gives exact per-version counters and a latency sketch consistent with a known backend delay', async () => {
    const delayMs = 40;
    const delayed = await fx.backend('v2', (req, res) => {
      setTimeout(() => {
        res.writeHead(req.url === '/fail' ? 500 : 200);
        res.end('v2');
      }, delayMs);
    });
    const fast = await fx.backend('v1', statusFromPath);
    const from = Date.now();
    const { proxy, origin } = await fx.proxy({
      listeners: [{ port: 0 }],
      services: [
        {
          name: 'shop',
          versions: [
            { name: 'v1', endpoints: [fast.address] },
            { name: 'v2', endpoints: [delayed.address] },
          ],
          routes: [route('canary', '/canary', 'v2'), route('fail', '/fail', 'v2'), route('main', '/', 'v1')],
        },
      ],
    });
    const clientLatencies: number[] = [];
    await inParallel(104, 10, async (i) => {
      const startedAt = performance.now();
      await send(`${origin}${i < 4 ? '/fail' : '/canary'}`);
      clientLatencies.push(performance.now() - startedAt);
    });
    for (let i = 0; i < 7; i++) await send(`${origin}/status/404`);

    const canary = proxy.metrics.versionTraffic('shop', 'v2');
    expect(canary.totals).toMatchObject({ requests: 104, errors5xx: 4, errors4xx: 0, connectErrors: 0 });
    expect(proxy.metrics.versionTraffic('shop', 'v1').totals).toMatchObject({ requests: 7, errors4xx: 7 });

    const snapshot = canary.snapshot(from, Date.now() + 1);
    expect(snapshot).toMatchObject({ requests: 104, errors5xx: 4 });
    expect(snapshot.latency.count).toBe(104);
    // Lower bound: the backend waited delayMs (timers may fire up to 1 ms early; 1 % sketch error).
    expect(snapshot.latency.quantile(0.01)).toBeGreaterThanOrEqual((delayMs - 1) * 0.98);
    // Upper bound without timing assumptions: the router's latency of a request is never more
    // than what its client saw, so each quantile is at most the client's (plus sketch error).
    clientLatencies.sort((a, b) => a - b);
    const clientQuantile = (q: number): number => clientLatencies[Math.ceil(q * clientLatencies.length) - 1]!;
    const p50 = snapshot.latency.quantile(0.5);
    const p99 = snapshot.latency.quantile(0.99);
    expect(p50).toBeLessThanOrEqual(p99);
    expect(p50).toBeLessThanOrEqual(clientQuantile(0.5) * 1.02);
    expect(p99).toBeLessThanOrEqual(clientQuantile(0.99) * 1.02);
    expect(snapshot.latency.countAtOrBelow(delayMs / 2)).toBe(0);
    // An interval before any traffic is empty.
    expect(canary.snapshot(from - 60_000, from - 30_000).requests).toBe(0);
  });
});
