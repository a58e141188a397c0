import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LatencySketch, RELATIVE_ACCURACY } from './latency-sketch.js';
import { RollingWindow } from '../proxy/stats/rolling-window.js';

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

describe('LatencySketch', () => {
  it('answers every quantile within the relative accuracy (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.01, max: 100_000, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (values, q) => {
          const sketch = new LatencySketch();
          values.forEach((v) => sketch.add(v));
          const truth = exactQuantile(
            [...values].sort((a, b) => a - b),
            q,
          );
          expect(Math.abs(sketch.quantile(q) - truth) / truth).toBeLessThanOrEqual(RELATIVE_ACCURACY + 1e-9);
        },
      ),
    );
  });

  it('merges exactly: merge(a, b) equals a sketch of both inputs', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.01, max: 10_000, noNaN: true }), { maxLength: 100 }),
        fc.array(fc.double({ min: 0.01, max: 10_000, noNaN: true }), { maxLength: 100 }),
        (a, b) => {
          const left = new LatencySketch();
          a.forEach((v) => left.add(v));
          const right = new LatencySketch();
          b.forEach((v) => right.add(v));
          const both = new LatencySketch();
          [...a, ...b].forEach((v) => both.add(v));
          left.merge(right);
          expect([...left.buckets()]).toEqual([...both.buckets()]);
          expect(left.count).toBe(both.count);
        },
      ),
    );
  });

  it('round-trips through JSON and is NaN when empty', () => {
    const sketch = new LatencySketch();
    [1, 2, 3, 500].forEach((v) => sketch.add(v));
    const copy = LatencySketch.fromJSON(JSON.parse(JSON.stringify(sketch.toJSON())));
    expect(copy.quantile(0.5)).toBe(sketch.quantile(0.5));
    expect(copy.count).toBe(4);
    expect(new LatencySketch().quantile(0.5)).toBeNaN();
  });
});

describe('RollingWindow', () => {
  it('keeps exact counts per second and forgets slices older than the window', () => {
    const window = new RollingWindow(10);
    const t0 = 1_000_000;
    window.record(t0, 200, 5, undefined);
    window.record(t0 + 1_500, 503, 7, 'connect');
    window.record(t0 + 20_000, 200, 9, undefined);
    const recent = window.snapshot(t0 + 15_000, t0 + 21_000);
    expect(recent.requests).toBe(1);
    // The first two requests were 20 s ago in a 10 s ring: their slices have been reused.
    const old = window.snapshot(t0, t0 + 2_000);
    expect(old.requests).toBe(0);
    expect(window.totals).toMatchObject({ requests: 3, errors5xx: 1, connectErrors: 1 });
  });
});
