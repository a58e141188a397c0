/**
 * The test data plane on its own (weights injected; the suite in prometheus-traffic.test.ts
 * reads them from a real API server): whole requests split by weight, error rates per
 * version, Istio's text format, the same counts for the same seed, and it stops by itself.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { TrafficExporter, type BackendWeight } from './traffic-exporter.js';

const running: TrafficExporter[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.close()));
});

function exporter(weights: readonly BackendWeight[], seed = 7, extra = {}): TrafficExporter {
  const created = new TrafficExporter({
    rps: 200,
    seed,
    route: { namespace: 'shop', name: 'web' },
    weights: () => Promise.resolve(weights),
    autoTick: false,
    ...extra,
  });
  running.push(created);
  return created;
}

const SPLIT: BackendWeight[] = [
  { namespace: 'shop', service: 'web-primary', weight: 80 },
  { namespace: 'shop', service: 'web-canary', weight: 20 },
];

/** |k − np| in standard deviations of Binomial(n, p). */
function distanceInSd(k: number, n: number, p: number): number {
  return Math.abs(k - n * p) / Math.sqrt(n * p * (1 - p));
}

async function metrics(url: string): Promise<string> {
  return (await request(`${url}/metrics`)).body.text();
}

/** Sum of a metric's samples whose label text includes every `has`. */
function sampleSum(text: string, metric: string, ...has: string[]): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${metric}{`) && has.every((h) => line.includes(h)))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

describe('TrafficExporter', () => {
  it('serves rps whole requests a second, split by the weights, with each version’s error rate', async () => {
    const e = exporter(SPLIT);
    e.setVersion('canary', { errorRate: 0.1, latencyMs: 40 });
    e.setVersion('primary', { errorRate: 0.01, latencyMs: 20 });
    const { url } = await e.start();
    for (let i = 0; i < 50; i++) e.serveSecond();
    const primary = e.served('web-primary');
    const canary = e.served('web-canary');
    expect(primary.requests + canary.requests).toBe(50 * 200);
    // Each count is binomial; within 4.5 standard deviations of its mean with probability
    // > 0.99999 (normal approximation), while a wrong split or rate (canary share 0.25, error
    // rate 0.05) is ~12 and ~5 standard deviations away.
    expect(distanceInSd(canary.requests, 10_000, 0.2)).toBeLessThan(4.5);
    expect(distanceInSd(canary.errors, canary.requests, 0.1)).toBeLessThan(4.5);
    expect(distanceInSd(primary.errors, primary.requests, 0.01)).toBeLessThan(4.5);

    const text = await metrics(url);
    const canaryLabels = 'destination_service_name="web-canary"';
    expect(sampleSum(text, 'istio_requests_total', canaryLabels, 'reporter="source"')).toBe(canary.requests);
    expect(sampleSum(text, 'istio_requests_total', canaryLabels, 'response_code="503"')).toBe(canary.errors);
    expect(sampleSum(text, 'istio_request_duration_milliseconds_bucket', canaryLabels, 'le="+Inf"')).toBe(
      canary.requests,
    );
    // log-normal around 40 ms (σ 0.3): almost all canary requests in (25, 100], few at or below 25.
    const le25 = sampleSum(text, 'istio_request_duration_milliseconds_bucket', canaryLabels, 'le="25"');
    expect(le25 / canary.requests).toBeLessThan(0.1);
    expect(e.servedAtScrape(1, 'web-canary')).toEqual(canary);
    expect(text).toContain('aviary_test_exporter_scrapes_total 1');
  });

  it('gives the same counts for the same seed and weights, and other counts for another seed', async () => {
    const runs = await Promise.all(
      [7, 7, 8].map(async (seed) => {
        const e = exporter(SPLIT, seed);
        e.setVersion('canary', { errorRate: 0.1, latencyMs: 40 });
        const { url } = await e.start();
        for (let i = 0; i < 5; i++) e.serveSecond();
        return (await metrics(url)).replace(/^aviary_test_exporter_scrapes_total.*$/m, '');
      }),
    );
    expect(runs[0]).toBe(runs[1]);
    expect(runs[0]).not.toBe(runs[2]);
  });

  it('serves nothing to a backend of weight 0 and nothing at all without backends', async () => {
    const e = exporter([
      { namespace: 'shop', service: 'web-primary', weight: 100 },
      { namespace: 'shop', service: 'web-canary', weight: 0 },
    ]);
    await e.start();
    e.serveSecond();
    expect(e.served('web-canary').requests).toBe(0);
    expect(e.served('web-primary').requests).toBe(200);
    const none = exporter([]);
    await none.start();
    none.serveSecond();
    expect(none.served('web-primary').requests).toBe(0);
  });

  it('stops by itself after maxRunMs, and serves nothing after close', async () => {
    const e = exporter(SPLIT, 7, { autoTick: true, maxRunMs: 200 });
    const { url } = await e.start();
    await e.closed;
    await expect(metrics(url)).rejects.toThrow();
    e.serveSecond();
    expect(e.served('web-primary').requests).toBe(0);
  });
});
