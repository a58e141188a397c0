/**
 * Istio's standard request metrics (https://istio.io/latest/docs/reference/config/metrics/):
 * `istio_requests_total` and `istio_request_duration_milliseconds_bucket`, labelled with the
 * destination Service (`destination_service_name`, `destination_service_namespace`) and the
 * HTTP `response_code`. Each request is reported by the proxy that sent it (`reporter="source"`:
 * the gateway for traffic through a Gateway API route) and again by the receiving sidecar
 * (`reporter="destination"`); one reporter is selected so no request counts twice.
 */
import {
  promString,
  selector,
  type ServiceRef,
  type VersionSeries,
} from './prometheus-builtin-queries-series.js';

/** Which proxy's report to read. */
export type IstioReporter = 'source' | 'destination';

/**
 * The gateway's view by default: it also counts the requests it failed to deliver (a 503
 * from a crashed canary pod never reaches a sidecar), and it is the proxy applying the weights.
 */
export const DEFAULT_ISTIO_REPORTER: IstioReporter = 'source';

/** Istio's series of requests to `service`. */
export function istioSeries(
  service: ServiceRef,
  reporter: IstioReporter = DEFAULT_ISTIO_REPORTER,
): VersionSeries {
  const matchers = [
    `reporter=${promString(reporter)}`,
    `destination_service_namespace=${promString(service.namespace)}`,
    `destination_service_name=${promString(service.name)}`,
  ];
  return {
    requests: selector('istio_requests_total', matchers),
    errors: selector('istio_requests_total', [...matchers, 'response_code=~"5.."']),
    latencyBuckets: selector('istio_request_duration_milliseconds_bucket', matchers),
    latencyUnitMs: 1,
  };
}
