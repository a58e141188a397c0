/**
 * "What to measure", apart from "where to query" (Flagger's observers vs providers): an
 * observer answers the built-in checks — request success rate and P99 duration of one
 * version over an interval — from whatever the router exposes. The embedded observer reads
 * the built-in router's counters in process; a Prometheus observer runs PromQL.
 */

/** The built-in checks every observer answers (Flagger's names). */
export type BuiltinMetricName = 'request-success-rate' | 'request-duration';

/** Names of the built-in checks. */
export const BUILTIN_METRIC_NAMES: readonly BuiltinMetricName[] = [
  'request-success-rate',
  'request-duration',
];

/** One measured value and the evidence behind it. */
export interface MetricObservation {
  /** The value (percent for success rate, milliseconds for duration); undefined when there is no data. */
  readonly value: number | undefined;
  /** Requests the value was computed from; 0 means "no values found". */
  readonly sampleSize: number;
  /** Interval measured, ms since epoch. */
  readonly fromMs: number;
  readonly toMs: number;
}

/** What an observer is asked. */
export interface ObservationQuery {
  readonly app: string;
  readonly version: string;
  readonly intervalMs: number;
  readonly nowMs: number;
}

/** Measures the built-in checks for one router kind. */
export interface MetricObserver {
  readonly kind: string;
  observe(
    metric: BuiltinMetricName,
    query: ObservationQuery,
    signal?: AbortSignal,
  ): Promise<MetricObservation>;
}
