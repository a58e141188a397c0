/**
 * The built-in checks (`request-success-rate`, `request-duration`) as PromQL, per data plane:
 * over the router's own series (`aviary_proxy_requests_total`,
 * `aviary_proxy_request_duration_seconds`, labels service, route, version, endpoint, code), so
 * they can be answered by a Prometheus that scrapes the router instead of the in-process
 * counters — the same numbers, with the scrape delay — and over the series of the Gateway API
 * data planes Aviary runs behind on Kubernetes: Istio and Envoy Gateway, which know a version
 * as its Service `<service>-canary` in `<namespace>`. Written as templates, with Flagger's
 * variables, like any metric template.
 */
import type { BuiltinMetricName } from './metric-observer.js';
import { envoyGatewaySeries } from './prometheus-builtin-queries-envoy-gateway.js';
import { istioSeries } from './prometheus-builtin-queries-istio.js';
import type { ServiceRef, VersionSeries } from './prometheus-builtin-queries-series.js';

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

/** Data planes whose Prometheus series Aviary reads. */
export type DataPlane = 'aviary' | 'istio' | 'envoy-gateway';

/** The built-in checks' value queries and the canary's request count for one data plane. */
export interface BuiltinQuerySet {
  readonly queries: Readonly<Record<BuiltinMetricName, string>>;
  readonly requestCount: string;
}

/**
 * The built-ins over any {@link VersionSeries}. A data plane may create its 5xx series only at
 * the first 5xx (Istio does, per response code), so a missing error series reads as 0 rather
 * than as "no values"; a missing request series stays no-data.
 */
export function builtinQueriesOf(series: VersionSeries): BuiltinQuerySet {
  const over = (selector: string) => `${selector}[{{ interval }}]`;
  const scale = series.latencyUnitMs === 1 ? '' : ` * ${series.latencyUnitMs}`;
  return {
    queries: {
      'request-success-rate':
        `100 * (1 - (sum(rate(${over(series.errors)})) or vector(0))` +
        ` / sum(rate(${over(series.requests)})))`,
      'request-duration': `histogram_quantile(0.99, sum by (le) (rate(${over(series.latencyBuckets)})))${scale}`,
    },
    requestCount: `sum(increase(${over(series.requests)}))`,
  };
}

/** The canary's Service as the Kubernetes data planes label it, in template variables. */
const CANARY_SERVICE: ServiceRef = { namespace: '{{ namespace }}', name: '{{ service }}-canary' };

/** Built-in queries per data plane; `aviary` is the router's own series (the constants above). */
export const BUILTIN_QUERY_SETS: Readonly<Record<DataPlane, BuiltinQuerySet>> = {
  aviary: { queries: BUILTIN_QUERIES, requestCount: REQUEST_COUNT_QUERY },
  istio: builtinQueriesOf(istioSeries(CANARY_SERVICE)),
  'envoy-gateway': builtinQueriesOf(envoyGatewaySeries(CANARY_SERVICE)),
};
