/**
 * Built-in checks from the built-in router's in-process counters: exact request and 5xx
 * counts and the merged latency sketch of the interval, without a scrape delay.
 */
import type {
  BuiltinMetricName,
  MetricObservation,
  MetricObserver,
  ObservationQuery,
} from './metric-observer.js';
import type { ProxyMetrics } from '../proxy/stats/proxy-metrics.js';
import { observeBucket } from './traffic-observation.js';

/** {@link MetricObserver} over a {@link ProxyMetrics} registry. */
export class EmbeddedObserver implements MetricObserver {
  readonly kind = 'embedded';

  constructor(private readonly metrics: ProxyMetrics) {}

  // eslint-disable-next-line @typescript-eslint/require-await -- the interface is async for remote observers
  async observe(
    metric: BuiltinMetricName,
    query: ObservationQuery,
    signal?: AbortSignal,
  ): Promise<MetricObservation> {
    signal?.throwIfAborted();
    const from = query.nowMs - query.intervalMs;
    const snap = this.metrics.versionTraffic(query.app, query.version).snapshot(from, query.nowMs);
    return observeBucket(metric, snap, snap.fromMs, snap.toMs);
  }
}
