/**
 * Built-in checks for `router.kind: aviary-admin`: each `aviary proxy` instance answers the
 * traffic of one version over an interval (`GET /services/{app}/versions/{v}/traffic`) with
 * exact counts and its latency sketch. Counts add up and sketches merge exactly, so N
 * proxies behind a load balancer are judged as the one data plane they are.
 */
import type {
  BuiltinMetricName,
  MetricObservation,
  MetricObserver,
  ObservationQuery,
} from './metric-observer.js';
import { readAdminJson, sumAnswers, trafficPath, type BucketAnswer } from './admin-api-traffic.js';
import { observeBucket } from './traffic-observation.js';

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
    return observeBucket(metric, sumAnswers(answers), query.nowMs - query.intervalMs, query.nowMs);
  }

  private traffic(url: string, query: ObservationQuery, signal?: AbortSignal): Promise<BucketAnswer> {
    return readAdminJson<BucketAnswer>(
      url,
      trafficPath(query.app, query.version),
      { seconds: String(query.intervalMs / 1000) },
      `traffic of ${query.app}/${query.version}`,
      { timeoutMs: this.options.timeoutMs, signal },
    );
  }
}
