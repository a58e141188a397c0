/**
 * Per-version traffic as the judge and the dashboard read it: exact counts and latency
 * sketches over windows of whole seconds. The router engine provides a {@link TrafficWindows}
 * — read in process from the built-in proxy's rolling windows, or over the admin API from a
 * proxy in another process — and neither the judge nor the charts reach into a proxy.
 */
import type { LatencyBuckets } from './bucket-counts.js';
import type { LatencySketch } from './latency-sketch.js';

/** What the judge reads of one version's traffic over [fromMs, toMs). */
export interface TrafficCounts {
  readonly requests: number;
  readonly errors5xx: number;
  readonly latency: LatencyBuckets;
}

/** One bucket of a version's traffic: live requests, and mirrored copies apart. */
export interface TrafficBucket extends TrafficCounts {
  readonly mirrored: number;
  readonly mirroredErrors: number;
  readonly latency: LatencySketch;
  readonly mirroredLatency: LatencySketch;
}

/** Every version's traffic on a router's data plane, however many processes serve it. */
export interface TrafficWindows {
  /** How far back the data plane keeps one-second slices. */
  readonly windowSeconds: number;
  /**
   * Consecutive buckets of `stepMs` from `fromMs` to `toMs` (whole seconds; the last bucket
   * ends at `toMs`). Rejects when the data plane cannot be read: a partial answer would be
   * read as silence.
   */
  /**
   * The time (ms) up to which the windows are complete, for a data plane read after a delay
   * (Prometheus answers only what it has scraped: docs/adr/0020). Absent: up to now, as the
   * built-in proxy's counters are.
   */
  settledUntil?(signal?: AbortSignal): Promise<number>;
  buckets(
    app: string,
    version: string,
    fromMs: number,
    toMs: number,
    stepMs: number,
    signal?: AbortSignal,
  ): Promise<TrafficBucket[]>;
}

/**
 * Per-version traffic for the judge, e.g. `trafficSourceOf(engine.traffic)`. The judge reads
 * the canary and its reference: the primary, or the fresh baseline with `analysis.baseline:
 * fresh` (docs/adr/0018-fresh-baseline.md).
 */
export type TrafficSource = (
  app: string,
  version: 'primary' | 'canary' | 'baseline',
) => { snapshot(fromMs: number, toMs: number): TrafficCounts | Promise<TrafficCounts> };

/** The judge's view of a router's {@link TrafficWindows}: one bucket per look. */
export function trafficSourceOf(windows: TrafficWindows): TrafficSource {
  return (app, version) => ({
    snapshot: async (fromMs, toMs) => {
      const [bucket] = await windows.buckets(app, version, fromMs, toMs, toMs - fromMs);
      if (bucket === undefined)
        throw new Error(`no traffic bucket for ${app}/${version} over [${fromMs}, ${toMs})`);
      return bucket;
    },
  });
}
