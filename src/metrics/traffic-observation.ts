/**
 * The built-in checks from exact traffic counts, computed the same way by every observer that
 * reads Aviary's own router counters (in process, or summed over `aviary proxy` instances).
 * Live requests and mirrored copies both exercise the version, so both count: blue/green with
 * mirroring is judged on the copies.
 */
import type { LatencySketch } from '../analysis/latency-sketch.js';
import type { TrafficBucket } from '../analysis/traffic-source.js';
import type { BuiltinMetricName, MetricObservation } from './metric-observer.js';

/** One version's traffic over an interval, live requests and mirrored copies together. */
export interface TrafficTotals {
  /** Requests and mirrored copies. */
  readonly sampleSize: number;
  /** 5xx answers among them. */
  readonly failures: number;
  /** Interval counted, ms since epoch. */
  readonly fromMs: number;
  readonly toMs: number;
  /** Their latencies in one sketch; called only for `request-duration`. */
  readonly latency: () => LatencySketch;
}

/**
 * `metric` over `traffic`: the success rate in percent, or the P99 duration in ms. The value
 * is undefined (sample size 0) when the version saw no traffic.
 */
export function observeTraffic(metric: BuiltinMetricName, traffic: TrafficTotals): MetricObservation {
  const { sampleSize, fromMs, toMs } = traffic;
  const base = { sampleSize, fromMs, toMs };
  if (sampleSize === 0) return { value: undefined, ...base };
  if (metric === 'request-success-rate')
    return { value: (100 * (sampleSize - traffic.failures)) / sampleSize, ...base };
  return { value: traffic.latency().quantile(0.99), ...base };
}

/** `metric` over one version's traffic in [fromMs, toMs): live requests and mirrored copies together. */
export function observeBucket(
  metric: BuiltinMetricName,
  bucket: TrafficBucket,
  fromMs: number,
  toMs: number,
): MetricObservation {
  return observeTraffic(metric, {
    sampleSize: bucket.requests + bucket.mirrored,
    failures: bucket.errors5xx + bucket.mirroredErrors,
    fromMs,
    toMs,
    latency: () => {
      const latency = bucket.latency.clone();
      latency.merge(bucket.mirroredLatency);
      return latency;
    },
  });
}
