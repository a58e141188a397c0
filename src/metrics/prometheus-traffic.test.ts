/**
 * `PrometheusTraffic` against a real Prometheus (Debian's 2.42) scraping a loopback server
 * that plays a scripted Envoy Gateway: a canary cluster whose counters grow by a known amount
 * each scrape, whose first 5xx series is born mid-run and whose counters restart from zero
 * (a pod restart). Counts must equal the script's, window by window; the refusals must name
 * what is wrong.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusProvider } from './prometheus-provider.js';
import { PrometheusTraffic } from './prometheus-traffic.js';
import {
  prometheusUnavailable,
  startPrometheus,
  type TestPrometheus,
} from '../../test/support/prometheus-server.js';

const missing = prometheusUnavailable();
const never = new AbortController().signal;
/** Scrape at which the counters restart from zero, and at which the first 5xx appears. */
const RESET_AT = 9;
const FIRST_ERROR_AT = 5;
const SCRIPTED = 20;

/** What had really been served by scrape k (k ≥ 0): 7 requests a scrape, a 5xx at every 4th from FIRST_ERROR_AT. */
function served(k: number): { requests: number; errors: number } {
  const n = Math.min(k, SCRIPTED);
  let errors = 0;
  for (let i = FIRST_ERROR_AT; i <= n; i += 4) errors++;
  return { requests: 7 * n, errors };
}

/** What the counters show at scrape k: since the restart before RESET_AT, the counters count from zero. */
function exposition(k: number): string {
  const now = served(k);
  const base = k >= RESET_AT ? served(RESET_AT - 1) : { requests: 0, errors: 0 };
  const requests = now.requests - base.requests;
  const cluster = 'envoy_cluster_name="web-canary"';
  const lines = [
    `aviary_test_scrape ${k}`,
    `envoy_cluster_upstream_rq_total{${cluster}} ${requests}`,
    // Requests of 5 ms or less: 3 of each 7; the rest at or below 25 ms.
    `envoy_cluster_upstream_rq_time_bucket{${cluster},le="5"} ${(3 * requests) / 7}`,
    `envoy_cluster_upstream_rq_time_bucket{${cluster},le="25"} ${requests}`,
    `envoy_cluster_upstream_rq_time_bucket{${cluster},le="+Inf"} ${requests}`,
  ];
  // Envoy, like Istio, creates the 5xx series at the first 5xx.
  if (now.errors > 0) {
    lines.push(
      `envoy_cluster_upstream_rq_xx{${cluster},envoy_response_code_class="5"} ${now.errors - base.errors}`,
    );
  }
  return lines.join('\n') + '\n';
}

describe.skipIf(missing !== undefined)(
  `PrometheusTraffic on a real Prometheus${missing === undefined ? '' : ` (skipped: ${missing})`}`,
  () => {
    let server: Server;
    let prometheus: TestPrometheus | undefined;
    let url: string;
    let provider: PrometheusProvider;
    let traffic: PrometheusTraffic;
    let scrapes = 0;

    beforeAll(async () => {
      server = createServer((_req, res) => res.end(exposition(++scrapes)));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const target = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      prometheus = await startPrometheus(target, 'envoy', 'count(up{job="envoy"})');
      url = prometheus.url;
      provider = new PrometheusProvider({ address: url, timeoutMs: 2_000 });
      traffic = new PrometheusTraffic({
        address: url,
        dataPlane: 'envoy-gateway',
        namespace: 'shop',
        scrapeTargets: 'up{job="envoy"}',
      });
    });

    afterAll(async () => {
      await prometheus?.stop();
      server?.close();
    });

    /** Polls until `probe` resolves true (a failed query counts as not yet). */
    async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
      for (let i = 0; i < 240; i++) {
        if (await probe().catch(() => false)) return;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      throw new Error(`${what}: not within 60 s`);
    }

    const scrapeAt = (ms: number) =>
      provider.runQuery(`sum(last_over_time(aviary_test_scrape[5m] @ ${ms / 1000})) or vector(0)`, never);

    it('counts exactly, window by window, across a late-born 5xx series and a counter reset', async () => {
      await until(
        'the first scrape',
        async () => (await provider.runQuery('aviary_test_scrape', never)) >= 1,
      );
      const from = Math.floor((await traffic.settledUntil()) / 1000) * 1000 - 1000;
      const to = from + 16_000;
      await until('16 s scraped', async () => (await traffic.settledUntil()) >= to);
      const edges = Array.from({ length: 9 }, (_, i) => from + i * 2000);
      const ks = await Promise.all(edges.map(scrapeAt));
      expect(ks[ks.length - 1]).toBeGreaterThanOrEqual(RESET_AT + 2);
      const answered = await traffic.buckets('web', 'canary', from, to, 2000);
      const expected = ks.slice(1).map((k, i) => ({
        requests: served(k).requests - served(ks[i]!).requests,
        errors: served(k).errors - served(ks[i]!).errors,
      }));
      expect(answered.map((b) => ({ requests: b.requests, errors: b.errors5xx }))).toEqual(expected);
      expect(expected.reduce((sum, w) => sum + w.errors, 0)).toBeGreaterThan(0);
      // The window holding the reset: a reset read as a decrease would make it negative.
      expect(answered.every((b) => b.requests >= 0)).toBe(true);
      // Latency: 3 of 7 requests at the 5 ms edge, 4 at the 25 ms edge, in every window.
      for (const bucket of answered) {
        expect(bucket.latency.count).toBe(bucket.requests);
        expect(bucket.latency.countAtOrBelow(5.1)).toBe((3 * bucket.requests) / 7);
      }
    });

    it('refuses to answer when no scrape target matches, naming the selector', async () => {
      const elsewhere = new PrometheusTraffic({
        address: url,
        dataPlane: 'istio',
        namespace: 'shop',
        scrapeTargets: 'up{job="istio-gateways"}',
      });
      await expect(elsewhere.buckets('web', 'canary', 0, 1000, 1000)).rejects.toMatchObject({
        code: 'AVIARY_METRIC_NO_VALUES',
        message: expect.stringContaining('no scrape target matches up{job="istio-gateways"}'),
      });
    });
  },
);

describe('PrometheusTraffic options', () => {
  it('refuses an unknown data plane, listing the known ones', () => {
    expect(
      () =>
        new PrometheusTraffic({
          address: 'http://127.0.0.1:9',
          dataPlane: 'linkerd' as 'istio',
          namespace: 'shop',
        }),
    ).toThrow(/dataPlane: unknown data plane "linkerd"; expected one of istio, envoy-gateway/);
  });

  it('maps versions to Services, by default <app>-<version>', () => {
    const options = { address: 'http://127.0.0.1:9', dataPlane: 'istio' as const, namespace: 'shop' };
    expect(new PrometheusTraffic(options).seriesOf('web', 'baseline').series.requests).toContain(
      'destination_service_name="web-baseline"',
    );
    const mapped = new PrometheusTraffic({ ...options, serviceOf: (app, v) => `${app}-${v}-svc` });
    expect(mapped.seriesOf('web', 'primary').service).toEqual({ namespace: 'shop', name: 'web-primary-svc' });
  });
});
