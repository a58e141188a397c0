import { describe, expect, it } from 'vitest';
import { EmbeddedObserver } from './embedded-observer.js';
import { ProxyMetrics } from '../proxy/stats/proxy-metrics.js';

describe('EmbeddedObserver', () => {
  const now = 1_700_000_000_000;
  /** The query for `version` of shop over the `intervalMs` before `now`. */
  const over = (intervalMs: number, version = 'v2') => ({ app: 'shop', version, intervalMs, nowMs: now });

  function metricsWith(requests: { status: number; ms: number; atMs: number }[]): ProxyMetrics {
    const metrics = new ProxyMetrics();
    const stats = metrics.endpoint('shop', 'main', 'v2', 'none');
    const window = metrics.window('shop', 'v2');
    for (const r of requests) metrics.recordRequest(stats, window, r.atMs, r.status, r.ms, undefined);
    return metrics;
  }

  it('computes the success rate over the interval only', async () => {
    const requests = [
      ...Array.from({ length: 90 }, () => ({ status: 200, ms: 10, atMs: now - 5_000 })),
      ...Array.from({ length: 10 }, () => ({ status: 503, ms: 10, atMs: now - 5_000 })),
      // Outside a 30 s interval: must not count.
      ...Array.from({ length: 50 }, () => ({ status: 500, ms: 10, atMs: now - 120_000 })),
    ];
    const observer = new EmbeddedObserver(metricsWith(requests));
    const obs = await observer.observe('request-success-rate', over(30_000));
    expect(obs.sampleSize).toBe(100);
    expect(obs.value).toBeCloseTo(90, 10);
  });

  it('computes P99 in milliseconds within the sketch accuracy', async () => {
    const requests = Array.from({ length: 1000 }, (_, i) => ({ status: 200, ms: i + 1, atMs: now - 1_000 }));
    const observer = new EmbeddedObserver(metricsWith(requests));
    const obs = await observer.observe('request-duration', over(60_000));
    expect(obs.value).toBeGreaterThan(990 * 0.99);
    expect(obs.value).toBeLessThan(990 * 1.01);
  });

  it('reports no data with a zero sample instead of a value', async () => {
    const observer = new EmbeddedObserver(new ProxyMetrics());
    const obs = await observer.observe('request-success-rate', over(60_000, 'v9'));
    expect(obs).toMatchObject({ value: undefined, sampleSize: 0 });
  });
});
