/**
 * Built-in checks for `router.kind: aviary-admin`: each `aviary proxy` instance answers the
 * traffic of one version over an interval (`GET /services/{app}/versions/{v}/traffic`) with
 * exact counts and its latency sketch. Counts add up and sketches merge exactly, so N
 * proxies behind a load balancer are judged as the one data plane they are.
 */
import { LatencySketch, type LatencySketchJson } from '../analysis/latency-sketch.js';
import type {
  BuiltinMetricName,
  MetricObservation,
  MetricObserver,
  ObservationQuery,
} from './metric-observer.js';
import { readAdminJson, trafficPath } from './admin-api-traffic.js';
import { observeTraffic } from './traffic-observation.js';

/** One instance's answer, as the admin API sends it. */
interface TrafficAnswer {
  readonly requests: number;
  readonly errors5xx: number;
  readonly mirrored: number;
  readonly mirroredErrors: number;
  readonly fromMs: number;
  readonly toMs: number;
  readonly latency: LatencySketchJson;
  readonly mirroredLatency: LatencySketchJson;
}

/** Options of an {@link AdminApiObserver}. */
export interface AdminApiObserverOptions {
  /** Admin API base URLs of every instance. */
  readonly urls: readonly string[];
  /** Limit per request; default 5 s. */
  readonly timeoutMs?: number;
}

/** {@link MetricObserver} summing the traffic every `aviary proxy` instance saw. */
export class AdminApiObserver implements MetricObserver {
  readonly kind = 'aviary-admin';

  constructor(private readonly options: AdminApiObserverOptions) {}

  /**
   * Measures one built-in check across every instance. An instance that does not answer
   * makes the observation fail (a failed check), never a silently partial value.
   */
  async observe(
    metric: BuiltinMetricName,
    query: ObservationQuery,
    signal?: AbortSignal,
  ): Promise<MetricObservation> {
    const answers = await Promise.all(this.options.urls.map((url) => this.traffic(url, query, signal)));
    let sampleSize = 0;
    let failures = 0;
    const latency = new LatencySketch();
    for (const answer of answers) {
      sampleSize += answer.requests + answer.mirrored;
      failures += answer.errors5xx + answer.mirroredErrors;
      latency.merge(LatencySketch.fromJSON(answer.latency));
      latency.merge(LatencySketch.fromJSON(answer.mirroredLatency));
    }
    const fromMs = query.nowMs - query.intervalMs;
    return observeTraffic(metric, {
      sampleSize,
      failures,
      fromMs,
      toMs: query.nowMs,
      latency: () => latency,
    });
  }

  private traffic(url: string, query: ObservationQuery, signal?: AbortSignal): Promise<TrafficAnswer> {
    return readAdminJson<TrafficAnswer>(
      url,
      trafficPath(query.app, query.version),
      { seconds: String(query.intervalMs / 1000) },
      `traffic of ${query.app}/${query.version}`,
      { timeoutMs: this.options.timeoutMs, signal },
    );
  }
}
