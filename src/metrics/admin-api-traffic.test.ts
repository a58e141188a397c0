/**
 * The judge's and the dashboard's traffic read over admin APIs: two real proxies with their
 * admin servers on loopback, traffic recorded in each, summed bucket by bucket into what one
 * data plane would have counted; an instance that is down fails the read.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AdminServer } from '../api/admin-server.js';
import { proxyConfigSchema } from '../config/proxy-schema.js';
import { ProxyServer } from '../proxy/proxy-server.js';
import { ProxyMetrics } from '../proxy/stats/proxy-metrics.js';
import { trafficSourceOf } from '../analysis/traffic-source.js';
import { AdminApiTraffic, readAdminJson } from './admin-api-traffic.js';

const APP = 'shop';
/** A whole second. */
const T0 = 1_700_000_000_000;
const running: { proxy: ProxyServer; admin: AdminServer }[] = [];

afterEach(async () => {
  for (const { proxy, admin } of running.splice(0)) {
    await admin.close();
    await proxy.close();
  }
});

async function instance(): Promise<{ url: string; metrics: ProxyMetrics }> {
  const proxy = new ProxyServer(proxyConfigSchema.parse({ listeners: [{ port: 0 }] }));
  await proxy.start();
  const admin = new AdminServer(proxy, { port: 0, token: 'admin-traffic-test' });
  const url = `http://127.0.0.1:${(await admin.start()).port}`;
  running.push({ proxy, admin });
  return { url, metrics: proxy.metrics };
}

function record(metrics: ProxyMetrics, version: string, atMs: number, status: number, latencyMs: number) {
  const stats = metrics.endpoint(APP, 'main', version, 'none');
  metrics.recordRequest(stats, metrics.window(APP, version), atMs, status, latencyMs, undefined);
}

describe('AdminApiTraffic', () => {
  it('sums every instance bucket by bucket, counts and latency sketches alike', async () => {
    const [a, b] = [await instance(), await instance()];
    const both = new ProxyMetrics();
    // [T0, T0+2s) in 1 s buckets: instance a serves the first second, b both; one 500 in b.
    for (const [target, at, status, ms] of [
      [a, T0 + 100, 200, 10],
      [a, T0 + 200, 200, 20],
      [b, T0 + 300, 500, 400],
      [b, T0 + 1_500, 200, 30],
    ] as const) {
      record(target.metrics, 'canary', at, status, ms);
      record(both, 'canary', at, status, ms);
    }
    const traffic = new AdminApiTraffic({ urls: [a.url, b.url] });
    const buckets = await traffic.buckets(APP, 'canary', T0, T0 + 2_000, 1_000);
    const expected = both.trafficBuckets(APP, 'canary', T0, T0 + 2_000, 1_000);
    expect(buckets.map((x) => [x.requests, x.errors5xx])).toEqual([
      [3, 1],
      [1, 0],
    ]);
    expect(buckets.map((x) => x.latency.toJSON())).toEqual(expected.map((x) => x.latency.toJSON()));
    // The judge's view of the same: one bucket over its whole look.
    const look = await trafficSourceOf(traffic)(APP, 'canary').snapshot(T0, T0 + 2_000);
    expect([look.requests, look.errors5xx, look.latency.count]).toEqual([4, 1, 4]);
  });

  it('fails the read when an instance does not answer, rather than reading it as silence', async () => {
    const a = await instance();
    const traffic = new AdminApiTraffic({ urls: [a.url, 'http://127.0.0.1:9'], timeoutMs: 2_000 });
    await expect(traffic.buckets(APP, 'canary', T0, T0 + 1_000, 1_000)).rejects.toMatchObject({
      code: 'AVIARY_ROUTER_UNAVAILABLE',
      message: expect.stringContaining('router instance http://127.0.0.1:9: traffic of shop/canary'),
    });
  });

  it('refuses a read the admin API cannot answer with a named parameter', async () => {
    const a = await instance();
    const ask = (query: Record<string, string>) =>
      readAdminJson(a.url, `/services/${APP}/versions/canary/traffic`, query, 'traffic');
    await expect(ask({ from: String(T0), to: String(T0), step: '1000' })).rejects.toThrow(/HTTP 400/);
    await expect(ask({ from: String(T0), to: String(T0 + 7_200_000), step: '1000' })).rejects.toThrow(
      /HTTP 400/,
    );
  });
});
