import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LatencySketch } from './latency-sketch.js';
import {
  bucketLowerBound,
  bucketsOfRanks,
  bucketUpperEdge,
  countAboveBucket,
  mergeBucketCounts,
  toBucketCounts,
} from './bucket-counts.js';

const latencies = fc.array(fc.double({ min: 0.01, max: 60_000, noNaN: true }), { maxLength: 200 });

function sketchOf(values: readonly number[]): LatencySketch {
  const sketch = new LatencySketch();
  for (const v of values) sketch.add(v);
  return sketch;
}

describe('bucket counts', () => {
  it('merging equals counting everything at once', () => {
    fc.assert(
      fc.property(latencies, latencies, (a, b) => {
        const merged = mergeBucketCounts(toBucketCounts(sketchOf(a)), toBucketCounts(sketchOf(b)));
        const direct = toBucketCounts(sketchOf([...a, ...b]));
        expect(merged.total).toBe(direct.total);
        if (direct.total > 0) {
          const ranks = Array.from({ length: direct.total }, (_, i) => i + 1);
          expect(bucketsOfRanks(merged, ranks)).toEqual(bucketsOfRanks(direct, ranks));
        }
      }),
    );
  });

  it('finds the bucket of every rank with edges around the sorted true value', () => {
    fc.assert(
      fc.property(
        latencies.filter((v) => v.length > 0),
        (values) => {
          const counts = toBucketCounts(sketchOf(values));
          const sorted = [...values].sort((x, y) => x - y);
          const ranks = sorted.map((_, i) => i + 1);
          bucketsOfRanks(counts, ranks).forEach((bucket, i) => {
            expect(bucketLowerBound(bucket)).toBeLessThan(sorted[i]!);
            expect(bucketUpperEdge(bucket)).toBeGreaterThanOrEqual(sorted[i]!);
          });
        },
      ),
    );
  });

  it('counts values above a bucket exactly', () => {
    fc.assert(
      fc.property(latencies, fc.double({ min: 0.01, max: 60_000, noNaN: true }), (values, threshold) => {
        const sketch = sketchOf([threshold]);
        const [[index]] = [...sketch.buckets()] as [[number, number]];
        const edge = bucketUpperEdge(index);
        expect(countAboveBucket(toBucketCounts(sketchOf(values)), index)).toBe(
          values.filter((v) => v > edge).length,
        );
      }),
    );
  });
});
