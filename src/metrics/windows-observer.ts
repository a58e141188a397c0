/**
 * The built-in checks (request success rate, P99 duration) read from any router's
 * {@link TrafficWindows}: one bucket over the check's interval, counted as the embedded and
 * admin observers count theirs (traffic-observation.ts). It lets a data plane that only
 * exposes traffic windows — Prometheus under the Kubernetes operator — answer Flagger's
 * built-in metrics with the same arithmetic as Aviary's own proxy.
 */
import type { TrafficWindows } from '../analysis/traffic-source.js';
import type {
  BuiltinMetricName,
  MetricObservation,
  MetricObserver,
  ObservationQuery,
} from './metric-observer.js';
import { observeBucket } from './traffic-observation.js';

/** {@link MetricObserver} over a router's traffic windows. */
export class WindowsObserver implements MetricObserver {
  readonly kind = 'traffic-windows';

  constructor(private readonly windows: TrafficWindows) {}

  /**
   * The check over the last interval of whole seconds the windows have complete (up to now, or
   * to `settledUntil` for a delayed data plane); rejects when the windows cannot be read.
   */
  async observe(
    metric: BuiltinMetricName,
    query: ObservationQuery,
    signal?: AbortSignal,
  ): Promise<MetricObservation> {
    const settled = this.windows.settledUntil
      ? Math.min(query.nowMs, await this.windows.settledUntil(signal))
      : query.nowMs;
    const toMs = Math.floor(settled / 1000) * 1000;
    const fromMs = toMs - Math.max(1000, Math.floor(query.intervalMs / 1000) * 1000);
    const [bucket] = await this.windows.buckets(
      query.app,
      query.version,
      fromMs,
      toMs,
      toMs - fromMs,
      signal,
    );
    if (bucket === undefined)
      throw new Error(`no traffic bucket for ${query.app}/${query.version} over [${fromMs}, ${toMs})`);
    return observeBucket(metric, bucket, fromMs, toMs);
  }
}
