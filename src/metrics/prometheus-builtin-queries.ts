/**
 * The built-in checks (`request-success-rate`, `request-duration`) as PromQL over the
 * router's own series (`aviary_proxy_requests_total`, `aviary_proxy_request_duration_seconds`,
 * labels service, route, version, endpoint, code), so they can be answered by a Prometheus
 * that scrapes the router instead of the in-process counters — the same numbers, with the
 * scrape delay. Written as templates, with Flagger's variables, like any metric template.
 */
import type { BuiltinMetricName } from './metric-observer.js';

/**
 * Percent of the canary's requests over the interval not answered with a 5xx (Flagger's
 * request-success-rate). 0/0 without traffic is NaN: the no-data policy applies.
 */
export const SUCCESS_RATE_QUERY =
  '100 * sum(rate(aviary_proxy_requests_total{service="{{ name }}",version="canary",code!~"5.."}[{{ interval }}]))' +
  ' / sum(rate(aviary_proxy_requests_total{service="{{ name }}",version="canary"}[{{ interval }}]))';

/**
 * P99 of the canary's request duration over the interval, in milliseconds (Flagger's
 * request-duration), interpolated inside the histogram's buckets by `histogram_quantile`.
 */
export const DURATION_P99_QUERY =
  'histogram_quantile(0.99, sum by (le) (rate(aviary_proxy_request_duration_seconds_bucket{service="{{ name }}",version="canary"}[{{ interval }}]))) * 1000';

/**
 * Canary requests over the interval: the sample size behind either check, so the built-ins'
 * `minRequests` no-data policy works through Prometheus too. `increase` extrapolates to the
 * interval's edges, so the count is rounded.
 */
export const REQUEST_COUNT_QUERY =
  'sum(increase(aviary_proxy_requests_total{service="{{ name }}",version="canary"}[{{ interval }}]))';

/** The value query of each built-in check. */
export const BUILTIN_QUERIES: Readonly<Record<BuiltinMetricName, string>> = {
  'request-success-rate': SUCCESS_RATE_QUERY,
  'request-duration': DURATION_P99_QUERY,
};
