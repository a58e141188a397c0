/**
 * Where the operator's checks and judge read per-version traffic: the data plane's
 * Prometheus (docs/adr/0020-judge-from-prometheus.md), windows a test injects, or none, in
 * which case every read fails saying how to give one.
 */
import type { TrafficWindows } from '../analysis/traffic-source.js';
import { AviaryError } from '../errors.js';
import { PrometheusTraffic, type TrafficDataPlane } from '../metrics/prometheus-traffic.js';

/** The data plane's Prometheus: its URL, whose series, and which `up` series say how far it has scraped. */
export interface OperatorPrometheus {
  readonly address: string;
  readonly dataPlane: TrafficDataPlane;
  readonly scrapeTargets?: string;
}

/** Traffic windows that say why there are none, so a check fails with the reason, not silence. */
const NO_TRAFFIC: TrafficWindows = {
  windowSeconds: 0,
  buckets: () =>
    Promise.reject(
      new AviaryError(
        'AVIARY_TRAFFIC_SOURCE_MISSING',
        'no traffic source: start the operator with --prometheus URL (the data plane metrics)',
      ),
    ),
};

/**
 * `injected` when given, else Prometheus's per-Service series of `namespace`, each role's
 * Service named by `serviceOf` (the Deployment target's `<svc>-primary`, `<svc>-canary`).
 */
export function operatorTraffic(
  namespace: string,
  serviceOf: (app: string, version: string) => string,
  prometheus: OperatorPrometheus | undefined,
  injected: TrafficWindows | undefined,
): TrafficWindows {
  if (injected !== undefined) return injected;
  if (prometheus === undefined) return NO_TRAFFIC;
  return new PrometheusTraffic({
    address: prometheus.address,
    dataPlane: prometheus.dataPlane,
    namespace,
    serviceOf,
    ...(prometheus.scrapeTargets !== undefined ? { scrapeTargets: prometheus.scrapeTargets } : {}),
  });
}
