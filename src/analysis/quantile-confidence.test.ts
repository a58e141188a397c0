import { describe, expect, it } from 'vitest';
import { LatencySketch } from './latency-sketch.js';
import { EMPTY_BUCKET_COUNTS, mergeBucketCounts, toBucketCounts } from './bucket-counts.js';
import { quantileBand, quantileRankBounds } from './quantile-confidence.js';
import { logBeta } from './special-functions.js';
import { binomialQuantile, createRandom, normalDraw } from './test-support.js';

/** The beta-binomial mixture written out directly, with the prior the module documents. */
function logMixture(s: number, n: number, p: number, alpha: number): number {
  const threshold = Math.log(1 / alpha);
  const c = Math.max(1000 / (2 * threshold + Math.log(1 + 2 * threshold)) - 1, 1e-3);
  return (
    logBeta(c * p + s, c * (1 - p) + n - s) -
    logBeta(c * p, c * (1 - p)) -
    s * Math.log(p) -
    (n - s) * Math.log1p(-p)
  );
}

describe('quantileRankBounds', () => {
  it('returns exactly the edges of the counts the martingale accepts (checked by brute force)', () => {
    for (const [n, p, alpha] of [
      [30, 0.5, 0.05],
      [200, 0.9, 0.01],
      [500, 0.99, 0.001],
      [2000, 0.5, 0.0004],
      [7, 0.99, 0.05],
    ] as const) {
      const accepted: number[] = [];
      for (let s = 0; s <= n; s++) if (logMixture(s, n, p, alpha) < Math.log(1 / alpha)) accepted.push(s);
      const { lowerRank, upperRank } = quantileRankBounds(n, p, alpha);
      expect(lowerRank).toBe(accepted[0]);
      expect(upperRank).toBe(accepted[accepted.length - 1]! + 1);
    }
  });

  it('narrows in quantile terms as observations accumulate', () => {
    let previous = Infinity;
    for (const n of [100, 1000, 10_000, 100_000]) {
      const { lowerRank, upperRank } = quantileRankBounds(n, 0.9, 0.001);
      const width = (upperRank - lowerRank) / n;
      expect(width).toBeLessThan(previous);
      previous = width;
    }
    expect(previous).toBeLessThan(0.01);
  });
});

describe('quantileBand', () => {
  it('is unbounded without data', () => {
    expect(quantileBand(EMPTY_BUCKET_COUNTS, 0.5, 0.01)).toEqual({
      estimateMs: null,
      lowerMs: 0,
      upperMs: Infinity,
    });
  });

  it('brackets every value stored in a bucket by that bucket’s edges (sketch accuracy is absorbed)', () => {
    const sketch = new LatencySketch();
    sketch.add(100, 5000);
    const band = quantileBand(toBucketCounts(sketch), 0.5, 0.01);
    expect(band.lowerMs).toBeLessThanOrEqual(100);
    expect(band.upperMs).toBeGreaterThanOrEqual(100);
    expect(band.upperMs / band.lowerMs).toBeLessThan(1.03); // one bucket: about 2% wide
  });

  it('covers the true quantile at every look in ≥ 1 − α of runs (time-uniform coverage)', () => {
    const random = createRandom(21);
    const alpha = 0.05;
    const runs = 300;
    const median = 40;
    const sigma = 0.4;
    for (const [p, z] of [
      [0.5, 0],
      [0.99, 2.3263478740408408],
    ] as const) {
      const truth = median * Math.exp(sigma * z);
      let misses = 0;
      for (let run = 0; run < runs; run++) {
        let counts = EMPTY_BUCKET_COUNTS;
        let missed = false;
        for (let look = 0; look < 60; look++) {
          const batch = new LatencySketch();
          for (let i = 0; i < 25; i++) batch.add(median * Math.exp(sigma * normalDraw(random)));
          counts = mergeBucketCounts(counts, toBucketCounts(batch));
          const band = quantileBand(counts, p, alpha);
          if (band.lowerMs > truth || band.upperMs < truth) missed = true;
        }
        if (missed) misses++;
      }
      expect(misses).toBeLessThanOrEqual(binomialQuantile(runs, alpha, 0.99));
    }
  });
});
