/**
 * Exact per-window increments from raw counter samples, and latency sketches from cumulative
 * histogram buckets. Pure; prometheus-traffic.ts fetches the samples.
 *
 * Why not `increase()`: it extrapolates the first and last samples in its range to the range's
 * edges, so it returns fractions (the judge refuses them), and it ignores the first sample of
 * a series, so the first 5xx of a version whose error series appears only then counts as 0
 * (https://prometheus.io/docs/prometheus/latest/querying/functions/#increase). Here a counter's
 * increment is the difference of its raw samples, each sample's delta going to the window its
 * timestamp falls in: consecutive windows telescope, so every counted request lands in
 * exactly one window.
 */
import { AviaryError } from '../errors.js';
import { BUCKET_COUNT, bucketUpperBound, LatencySketch } from '../analysis/latency-sketch.js';
import { MetricQueryError } from './metric-provider.js';
import { labelKey, type RawSeries } from './prometheus-traffic-api.js';

/** Aligned windows `(fromMs + i·stepMs, min(toMs, fromMs + (i+1)·stepMs)]`, i < count. */
export interface WindowGrid {
  readonly fromMs: number;
  /** End of the last window, which may be shorter than `stepMs`. */
  readonly toMs: number;
  readonly stepMs: number;
  readonly count: number;
}

/** The grid of `[fromMs, toMs)` in steps of `stepMs`; names the wrong parameter otherwise. */
export function windowGrid(fromMs: number, toMs: number, stepMs: number): WindowGrid {
  const whole = (n: number) => Number.isInteger(n) && n % 1000 === 0;
  if (!whole(fromMs) || !whole(toMs) || !whole(stepMs) || stepMs <= 0 || toMs <= fromMs) {
    throw new AviaryError(
      'AVIARY_JUDGE_WINDOW_INVALID',
      `traffic windows: expected whole seconds with fromMs < toMs and stepMs > 0, got fromMs=${fromMs} toMs=${toMs} stepMs=${stepMs}`,
    );
  }
  return { fromMs, toMs, stepMs, count: Math.ceil((toMs - fromMs) / stepMs) };
}

/**
 * Increments of counters per window, summed over the series that share `groupOf(labels)`.
 * `baseline` holds each series' last sample at or before the grid's start; `samples` every
 * raw sample after it up to the grid's end. A series without a baseline is new (its target
 * started, or a label value such as a response code appeared) and counts from zero. A sample
 * below its predecessor is a counter reset: the counter restarted from zero, so its value is
 * the increment.
 * @throws MetricQueryError AVIARY_PROVIDER_ERROR when a counter is not a whole number.
 */
export function counterIncrements(
  baseline: readonly RawSeries[],
  samples: readonly RawSeries[],
  grid: WindowGrid,
  groupOf: (labels: Readonly<Record<string, string>>) => string = () => '',
): Map<string, number[]> {
  const start = new Map(baseline.map((s) => [labelKey(s.labels), s.samples[s.samples.length - 1]?.[1] ?? 0]));
  const out = new Map<string, number[]>();
  for (const series of samples) {
    const group = groupOf(series.labels);
    const windows = out.get(group) ?? new Array<number>(grid.count).fill(0);
    out.set(group, windows);
    let previous = start.get(labelKey(series.labels)) ?? 0;
    for (const [atMs, value] of series.samples) {
      if (atMs <= grid.fromMs || atMs > grid.toMs) continue;
      if (!Number.isInteger(value)) {
        throw new MetricQueryError(
          'AVIARY_PROVIDER_ERROR',
          `counter ${labelKey(series.labels)} is ${value} at ${atMs}: expected a whole number of requests`,
        );
      }
      const increment = value >= previous ? value - previous : value;
      previous = value;
      windows[Math.ceil((atMs - grid.fromMs) / grid.stepMs) - 1]! += increment;
    }
  }
  return out;
}

/** The sum over every group, per window. */
export function totalIncrements(groups: Map<string, number[]>, grid: WindowGrid): number[] {
  const total = new Array<number>(grid.count).fill(0);
  for (const windows of groups.values()) windows.forEach((n, i) => (total[i]! += n));
  return total;
}

/** Where a request in the Prometheus bucket `(previous le, le]` is placed in the sketch, in ms. */
export function sketchValueOfBucket(le: number, unitMs: number): number {
  // The `le` edge itself: Prometheus says only "at most le", and both versions are mapped
  // alike (docs/adr/0020-judge-from-prometheus.md). Beyond the last finite edge: the
  // sketch's last, saturating bucket.
  return Number.isFinite(le) ? le * unitMs : bucketUpperBound(BUCKET_COUNT - 1);
}

/**
 * Per-window latency sketches from per-`le` increments of cumulative histogram buckets:
 * the requests of `(le_{k−1}, le_k]` are `C(le_k) − C(le_{k−1})`, placed at
 * {@link sketchValueOfBucket}.
 * @throws MetricQueryError AVIARY_PROVIDER_ERROR when the increments are not cumulative in `le`.
 */
export function latencySketches(
  byLe: Map<string, number[]>,
  grid: WindowGrid,
  unitMs: number,
): LatencySketch[] {
  const edges = [...byLe.entries()]
    .map(([le, windows]) => ({ le: le === '+Inf' ? Infinity : Number(le), windows }))
    .filter((edge) => !Number.isNaN(edge.le))
    .sort((a, b) => a.le - b.le);
  return Array.from({ length: grid.count }, (_, i) => {
    const sketch = new LatencySketch();
    let below = 0;
    for (const { le, windows } of edges) {
      const cumulative = windows[i]!;
      const inBucket = cumulative - below;
      if (inBucket < 0) {
        throw new MetricQueryError(
          'AVIARY_PROVIDER_ERROR',
          `histogram bucket le=${le} grew by ${cumulative} in window ${i}, less than the buckets below it (${below}): the buckets are not cumulative`,
        );
      }
      if (inBucket > 0) sketch.add(sketchValueOfBucket(le, unitMs), inBucket);
      below = cumulative;
    }
    return sketch;
  });
}
