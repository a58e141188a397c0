/**
 * What a data plane's Prometheus series say about one Service: the counter of its requests,
 * the counter of its 5xx answers and its latency histogram. One description per data plane
 * (Aviary's router, Istio, Envoy Gateway) serves both the built-in checks' PromQL
 * (prometheus-builtin-queries.ts) and the judge's exact counts (prometheus-traffic.ts), so the
 * two can never select different series.
 */

/** Series selectors (`metric{label="value",...}`) of one version's traffic. */
export interface VersionSeries {
  /** Counter of every request the version served, one series per label set. */
  readonly requests: string;
  /** Counter of the version's 5xx answers (a subset of {@link VersionSeries.requests}). */
  readonly errors: string;
  /** Cumulative histogram buckets of its request durations (`*_bucket`, label `le`). */
  readonly latencyBuckets: string;
  /** Milliseconds per unit of `le` (1 for `*_milliseconds`, 1000 for `*_seconds`). */
  readonly latencyUnitMs: number;
}

/** A Service as a data plane labels it; values may be template variables (`{{ service }}-canary`). */
export interface ServiceRef {
  readonly namespace: string;
  readonly name: string;
}

/** A PromQL string literal: `"` and `\` escaped, as https://prometheus.io/docs/prometheus/latest/querying/basics/#string-literals says. */
export function promString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** `metric{a="x",b=~"y"}` from a metric name and matchers already written as PromQL. */
export function selector(metric: string, matchers: readonly string[]): string {
  return `${metric}{${matchers.join(',')}}`;
}
