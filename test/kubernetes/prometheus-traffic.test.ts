/**
 * The judge fed from PromQL, end to end with real parts: the test control plane holds an
 * HTTPRoute, the traffic exporter reads its weights from the API server and serves Istio's
 * metrics, a real Prometheus (Debian's 2.42) scrapes it every second, and `PrometheusTraffic`
 * answers per-version counts over aligned windows. The counts must equal, exactly, what the
 * exporter had reported at the scrapes bounding each window; errors must follow the rates the
 * test set; the sequential judge must roll back a canary with 10 % errors against 1 %; and a
 * window Prometheus has not scraped past must be refused, not read as silence.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { judgeStep } from '../../src/analysis/judge.js';
import { initJudgeState } from '../../src/analysis/judge-state.js';
import { trafficSourceOf } from '../../src/analysis/traffic-source.js';
import { DEFAULT_JUDGE_CONFIG } from '../../src/config/app-judge.js';
import { KubeApi } from '../../src/kubernetes/kube-api.js';
import { MetricQueryError } from '../../src/metrics/metric-provider.js';
import { renderQuery } from '../../src/metrics/metric-template-render.js';
import { BUILTIN_QUERY_SETS } from '../../src/metrics/prometheus-builtin-queries.js';
import { PrometheusProvider } from '../../src/metrics/prometheus-provider.js';
import { PrometheusTraffic } from '../../src/metrics/prometheus-traffic.js';
import { controlPlaneSkipReason } from '../cluster/binaries.js';
import { startControlPlane, type ControlPlane } from '../cluster/control-plane.js';
import { TrafficExporter } from './traffic-exporter.js';
import { prometheusUnavailable, startPrometheus } from '../support/prometheus-server.js';

const unavailable = (await controlPlaneSkipReason()) ?? prometheusUnavailable();
const never = new AbortController().signal;
const APP = 'web';
const NAMESPACE = 'default';
const JOB = 'gateway';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns a value; names `what` when it never does. */
async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  limitMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(250);
  }
  throw new Error(
    `${what}: not within ${limitMs} ms${last ? ` (last error: ${last instanceof Error ? last.message : JSON.stringify(last)})` : ''}`,
  );
}

describe.skipIf(unavailable !== undefined)(
  `the judge fed from Prometheus${unavailable === undefined ? '' : ` (skipped: ${unavailable})`}`,
  () => {
    let dir: string;
    let plane: ControlPlane;
    let kube: KubeApi;
    let exporter: TrafficExporter;
    let prometheus: { url: string; stop(): Promise<void> };
    let provider: PrometheusProvider;
    let windows: PrometheusTraffic;

    const route = (primary: number, canary: number) => ({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: APP, namespace: NAMESPACE },
      spec: {
        parentRefs: [{ name: 'aviary-test-gateway' }],
        rules: [
          {
            backendRefs: [
              { name: `${APP}-primary`, port: 80, weight: primary },
              { name: `${APP}-canary`, port: 80, weight: canary },
            ],
          },
        ],
      },
    });

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'aviary-prometheus-traffic-plane-'));
      plane = await startControlPlane({ dir });
      kube = new KubeApi({ kubeconfig: plane.kubeconfig });
      await kube.apply(route(50, 50));
      exporter = new TrafficExporter({
        rps: 200,
        seed: 13,
        route: { namespace: NAMESPACE, name: APP },
        kube,
        maxRunMs: 600_000,
      });
      exporter.setVersion('primary', { errorRate: 0.01, latencyMs: 20 });
      exporter.setVersion('canary', { errorRate: 0.1, latencyMs: 40 });
      const { target } = await exporter.start();
      prometheus = await startPrometheus(target, JOB, 'aviary_test_exporter_scrapes_total');
      provider = new PrometheusProvider({ address: prometheus.url, timeoutMs: 2_000 });
      windows = new PrometheusTraffic({
        address: prometheus.url,
        dataPlane: 'istio',
        namespace: NAMESPACE,
        scrapeTargets: `up{job="${JOB}"}`,
      });
    }, 180_000);

    afterAll(async () => {
      await exporter?.close();
      await prometheus?.stop();
      await plane?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    }, 60_000);

    /** Waits until Prometheus has scraped every target past `ms`. */
    const settledPast = (ms: number) =>
      eventually(`a scrape past ${new Date(ms).toISOString()}`, async () =>
        (await windows.settledUntil()) >= ms ? true : undefined,
      );

    /** The next whole second after everything scraped so far. */
    const nextSecond = async () => Math.ceil((await windows.settledUntil()) / 1000) * 1000 + 1000;

    /** The exporter's own scrape number at the last scrape at or before `ms` (0 before the first). */
    const scrapeAt = async (ms: number) =>
      provider.runQuery(
        `sum(last_over_time(aviary_test_exporter_scrapes_total[5m] @ ${ms / 1000})) or vector(0)`,
        never,
      );

    it('answers exactly what the exporter reported at the scrapes bounding each aligned window', async () => {
      const from = await nextSecond();
      const step = 2_000;
      const to = from + 3 * step;
      await settledPast(to);
      const edges = [from, from + step, from + 2 * step, to];
      const scrapes = await Promise.all(edges.map(scrapeAt));
      for (const version of ['primary', 'canary']) {
        const service = `${APP}-${version}`;
        const answered = await windows.buckets(APP, version, from, to, step);
        const expected = scrapes.slice(1).map((scrape, i) => {
          const [before, after] = [
            exporter.servedAtScrape(scrapes[i]!, service),
            exporter.servedAtScrape(scrape, service),
          ];
          return { requests: after.requests - before.requests, errors: after.errors - before.errors };
        });
        expect(answered.map((b) => ({ requests: b.requests, errors: b.errors5xx }))).toEqual(expected);
        // Each window holds about two seconds at 100 requests a second: not an empty answer.
        for (const bucket of answered) {
          expect(bucket.requests).toBeGreaterThan(0);
          expect(bucket.latency.count).toBe(bucket.requests);
        }
      }
    });

    it('follows the weights written to the API server and the error rates the test set', async () => {
      await kube.apply(route(80, 20));
      await eventually('the exporter to read the new weights', () =>
        Promise.resolve(
          exporter.currentWeights().find((b) => b.service === `${APP}-canary`)?.weight === 20 || undefined,
        ),
      );
      const from = await nextSecond();
      const to = from + 20_000;
      await settledPast(to);
      const [primary] = await windows.buckets(APP, 'primary', from, to, to - from);
      const [canary] = await windows.buckets(APP, 'canary', from, to, to - from);
      const served = primary!.requests + canary!.requests;
      // Binomial counts within 4.5 standard deviations of their means (probability > 0.99999);
      // the old split (50 %) would be ~20 standard deviations away, an error rate of 5 % ~5.
      const sd = (k: number, n: number, p: number) => Math.abs(k - n * p) / Math.sqrt(n * p * (1 - p));
      expect(sd(canary!.requests, served, 0.2)).toBeLessThan(4.5);
      expect(sd(canary!.errors5xx, canary!.requests, 0.1)).toBeLessThan(4.5);
      expect(sd(primary!.errors5xx, primary!.requests, 0.01)).toBeLessThan(4.5);
      // 40 ms against 20 ms: the canary's median sits in a higher bucket (50 against 25).
      expect(canary!.latency.quantile(0.5)).toBeGreaterThan(primary!.latency.quantile(0.5));
    });

    it('answers the built-in checks over Istio series with the Istio query set', async () => {
      const context = {
        name: APP,
        target: APP,
        service: APP,
        namespace: NAMESPACE,
        interval: '10s',
        variables: {},
      };
      const { queries, requestCount } = BUILTIN_QUERY_SETS.istio;
      await settledPast((await nextSecond()) + 10_000);
      const successRate = await provider.runQuery(
        renderQuery(queries['request-success-rate'], context),
        never,
      );
      const p99 = await provider.runQuery(renderQuery(queries['request-duration'], context), never);
      const requests = await provider.runQuery(renderQuery(requestCount, context), never);
      // 10 % canary errors; 40 ms median, σ 0.3 in log: p99 ≈ 80 ms, interpolated in (50, 100].
      expect(successRate).toBeGreaterThan(80);
      expect(successRate).toBeLessThan(97);
      expect(p99).toBeGreaterThan(50);
      expect(p99).toBeLessThanOrEqual(100);
      expect(requests).toBeGreaterThan(100);
    });

    it('lets the judge roll back a canary with 10 % errors against 1 %, reading one-second windows', async () => {
      // At 20 % weight the canary serves ~40 requests a second; ADR 0002's bench rolls back
      // +5 pp in a median of 20 s, so +9 pp within 120 windows is near certain. The canary is
      // as fast as the primary here: at the suite's 40 against 20 ms the latency tests could
      // reject first (CI once saw p50 49.9 against 24.8 ms shown before the errors), and this
      // case is about the error test.
      exporter.setVersion('canary', { errorRate: 0.1, latencyMs: 20 });
      onTestFinished(() => exporter.setVersion('canary', { errorRate: 0.1, latencyMs: 40 }));
      const source = trafficSourceOf(windows);
      let state = initJudgeState();
      let from = await nextSecond();
      let decision = 'insufficient-data';
      for (let look = 0; look < 120 && decision !== 'regression'; look++) {
        const to = from + 1_000;
        await settledPast(to);
        const primary = await source(APP, 'primary').snapshot(from, to);
        const canary = await source(APP, 'canary').snapshot(from, to);
        const step = judgeStep(
          state,
          {
            primary: { requests: primary.requests, errors: primary.errors5xx, latency: primary.latency },
            canary: { requests: canary.requests, errors: canary.errors5xx, latency: canary.latency },
            canaryWeight: 20,
          },
          DEFAULT_JUDGE_CONFIG,
        );
        state = step.state;
        decision = step.decision;
        from = to;
      }
      expect(decision).toBe('regression');
      expect(state.regression).toMatch(/error/i);
    });

    it('refuses a window Prometheus has not scraped past, and answers it once it has', async () => {
      const from = await nextSecond();
      const to = from + 3_000;
      const refused = await windows.buckets(APP, 'canary', from, to, 1_000).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(MetricQueryError);
      expect((refused as MetricQueryError).code).toBe('AVIARY_METRIC_NO_VALUES');
      expect((refused as Error).message).toMatch(
        /web\/canary \(Service default\/web-canary\) .* not scraped yet/,
      );
      await settledPast(to);
      const answered = await windows.buckets(APP, 'canary', from, to, 1_000);
      expect(answered).toHaveLength(3);
      expect(answered.reduce((sum, b) => sum + b.requests, 0)).toBeGreaterThan(0);
    });
  },
);
