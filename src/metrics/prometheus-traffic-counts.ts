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

/** One counter selector's reads: each series' last sample at or before the grid, and its samples in it. */
export interface CounterRead {
  readonly baseline: readonly RawSeries[];
  readonly samples: readonly RawSeries[];
}

/** The scrape target of a series (`job`, `instance`) and a sample time, as one key. */
function scrapeKey(labels: Readonly<Record<string, string>>, atMs: number): string {
  return `${labels.job ?? ''}|${labels.instance ?? ''}|${atMs}`;
}

/** Walks each series' samples after its baseline, calling `visit(labels, atMs, value, previous)`. */
function eachStep(
  read: CounterRead,
  grid: WindowGrid,
  visit: (labels: Readonly<Record<string, string>>, atMs: number, value: number, previous: number) => void,
): void {
  const start = new Map(
    read.baseline.map((s) => [labelKey(s.labels), s.samples[s.samples.length - 1]?.[1] ?? 0]),
  );
  for (const series of read.samples) {
    let previous = start.get(labelKey(series.labels)) ?? 0;
    for (const [atMs, value] of series.samples) {
      if (atMs <= grid.fromMs || atMs > grid.toMs) continue;
      visit(series.labels, atMs, value, previous);
      previous = value;
    }
  }
}

/**
 * The scrapes at which a target's counters restarted: any counter of that target read lower
 * than at its previous scrape. A process restart resets all its counters at once, and the
 * series of one scrape share its timestamp, so one counter that fell reveals the reset of
 * the others — including a 5xx counter back at the value it had before (1 → restart → 1).
 */
export function resetScrapes(reads: readonly CounterRead[], grid: WindowGrid): Set<string> {
  const resets = new Set<string>();
  for (const read of reads) {
    eachStep(read, grid, (labels, atMs, value, previous) => {
      if (value < previous) resets.add(scrapeKey(labels, atMs));
    });
  }
  return resets;
}

/**
 * Increments of counters per window, summed over the series that share `groupOf(labels)`.
 * A series without a baseline is new (its target started, or a label value such as a response
 * code appeared) and counts from zero. At a reset (`resets`, from {@link resetScrapes}, or a
 * sample below its predecessor) the counter restarted from zero, so its value is the
 * increment. A restart after which every counter is back at or above its old value is
 * invisible in the samples, to this as to Prometheus's own `increase()`.
 * @throws MetricQueryError AVIARY_PROVIDER_ERROR when a counter is not a whole number.
 */
export function counterIncrements(
  read: CounterRead,
  grid: WindowGrid,
  groupOf: (labels: Readonly<Record<string, string>>) => string = () => '',
  resets: ReadonlySet<string> = resetScrapes([read], grid),
): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const series of read.samples) out.set(groupOf(series.labels), new Array<number>(grid.count).fill(0));
  eachStep(read, grid, (labels, atMs, value, previous) => {
    if (!Number.isInteger(value)) {
      throw new MetricQueryError(
        'AVIARY_PROVIDER_ERROR',
        `counter ${labelKey(labels)} is ${value} at ${atMs}: expected a whole number of requests`,
      );
    }
    const restarted = value < previous || resets.has(scrapeKey(labels, atMs));
    const increment = restarted ? value : value - previous;
    out.get(groupOf(labels))![Math.ceil((atMs - grid.fromMs) / grid.stepMs) - 1]! += increment;
  });
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
