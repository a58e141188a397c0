/**
 * The proxy's Prometheus counters of one series: requests by status, upstream failures,
 * retries and the latency histogram of a (service, route, version, endpoint), and the mirror
 * outcomes of a (service, route, version). `ProxyMetrics` owns them; the exposition
 * (proxy-metrics-text.ts) reads them.
 */
import type { ErrorKind } from './rolling-window.js';

/** Upper bounds (ms) of the Prometheus latency histogram buckets. */
export const LATENCY_BUCKETS_MS: readonly number[] = [
  1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
];

/** Counters of one (service, route, version, endpoint) series. */
export class EndpointStats {
  /** Requests by status code (index = code - 100). */
  readonly byStatus = new Float64Array(500);
  /** Upstream failures by kind. */
  readonly errors: Record<ErrorKind, number> = { connect: 0, timeout: 0, reset: 0, 'no-endpoint': 0 };
  /** Histogram counts; the last slot is +Inf. */
  readonly latencyBuckets = new Float64Array(LATENCY_BUCKETS_MS.length + 1);
  /** gRPC calls by gRPC status (index = code, 0–16). */
  readonly grpcStatus = new Float64Array(17);
  latencySumMs = 0;
  latencyCount = 0;
  retries = 0;

  constructor(
    readonly service: string,
    readonly route: string,
    readonly version: string,
    readonly endpoint: string,
  ) {}
}

/** Mirror outcomes of one (service, route, version). */
export class MirrorStats {
  readonly byStatus = new Float64Array(500);
  errors = 0;
  dropped = 0;

  constructor(
    readonly service: string,
    readonly route: string,
    readonly version: string,
  ) {}
}
