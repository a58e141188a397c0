/**
 * A metric observer for the controller bench: every built-in check passes with a full
 * sample, so each rollout walks the whole canary schedule and is promoted. It answers at
 * once (a resolved promise, no I/O), so what the bench measures is the controller.
 */
import type {
  BuiltinMetricName,
  MetricObservation,
  MetricObserver,
  ObservationQuery,
} from '../../src/metrics/metric-observer.js';

/** Success rate (percent) every query answers; above any sane `thresholdRange.min`. */
export const PASSING_SUCCESS_RATE = 99.9;
/** P99 duration (ms) every query answers. */
export const PASSING_DURATION_MS = 20;
/** Requests behind each answer: above the default `minRequests`, so no step is held for data. */
export const SAMPLE_SIZE = 1_000;

/** {@link MetricObserver} that always reports a healthy canary. */
export class PassingObserver implements MetricObserver {
  readonly kind = 'bench-passing';
  /** Queries answered, to show the analysis really ran. */
  queries = 0;

  observe(
    metric: BuiltinMetricName,
    query: ObservationQuery,
    signal?: AbortSignal,
  ): Promise<MetricObservation> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    this.queries++;
    return Promise.resolve({
      value: metric === 'request-success-rate' ? PASSING_SUCCESS_RATE : PASSING_DURATION_MS,
      sampleSize: SAMPLE_SIZE,
      fromMs: query.nowMs - query.intervalMs,
      toMs: query.nowMs,
    });
  }
}
