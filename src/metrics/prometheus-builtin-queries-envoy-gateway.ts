/**
 * Envoy Gateway's data plane is Envoy, whose per-cluster upstream statistics it exposes in
 * Prometheus form on each proxy's `/stats/prometheus`: `envoy_cluster_upstream_rq_total`,
 * `envoy_cluster_upstream_rq_xx` (label `envoy_response_code_class`, "5" for 5xx) and the
 * histogram `envoy_cluster_upstream_rq_time_bucket` (milliseconds), each labelled
 * `envoy_cluster_name`.
 *
 * Which cluster is a version's: Envoy Gateway names clusters after the route rule
 * (`httproute/<namespace>/<route>/rule/<i>`) and splits a rule's weighted backendRefs *inside*
 * that one cluster, so by default its statistics cannot tell primary from canary
 * (envoyproxy/gateway#6742, #7017). It makes one cluster per backendRef
 * (`…/rule/<i>/backend/<j>`) when backendRefs carry filters. The caller therefore names the
 * cluster of each Service ({@link EnvoyGatewayClusterOf}); the default assumes clusters named
 * after the Service, and a router that relies on per-backendRef clusters must pass their names.
 */
import {
  promString,
  selector,
  type ServiceRef,
  type VersionSeries,
} from './prometheus-builtin-queries-series.js';

/** The `envoy_cluster_name` that carries a Service's traffic. */
export type EnvoyGatewayClusterOf = (service: ServiceRef) => string;

/** Default cluster naming: the Service's own name. See the module header. */
export const serviceNamedCluster: EnvoyGatewayClusterOf = (service) => service.name;

/** Envoy's series of the cluster that carries `service`. */
export function envoyGatewaySeries(
  service: ServiceRef,
  clusterOf: EnvoyGatewayClusterOf = serviceNamedCluster,
): VersionSeries {
  const cluster = `envoy_cluster_name=${promString(clusterOf(service))}`;
  return {
    requests: selector('envoy_cluster_upstream_rq_total', [cluster]),
    errors: selector('envoy_cluster_upstream_rq_xx', [cluster, 'envoy_response_code_class="5"']),
    latencyBuckets: selector('envoy_cluster_upstream_rq_time_bucket', [cluster]),
    latencyUnitMs: 1,
  };
}
