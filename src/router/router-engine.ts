/**
 * A router as the composition root runs it: the {@link TrafficRouter} the controller drives,
 * "what to measure" on its data plane (Flagger's per-router observers), and its life cycle.
 * Each router kind's factory in router-registry.ts builds one.
 */
import type { TrafficWindows } from '../analysis/traffic-source.js';
import type { MetricObserver } from '../metrics/metric-observer.js';
import type { ProxyServer } from '../proxy/proxy-server.js';
import type { TrafficRouter } from './traffic-router.js';

/** One running router kind. */
export interface RouterEngine {
  readonly router: TrafficRouter;
  /** Answers the built-in checks (success rate, P99) from this router's data plane. */
  readonly observer: MetricObserver;
  /**
   * Per-version counts and latency sketches, for the statistical judge and the dashboard's
   * charts: read in process, or over the admin API when the data plane runs elsewhere.
   */
  readonly traffic: TrafficWindows;
  /** The built-in proxy, when this engine runs it in this process (`embedded`). */
  readonly proxy?: ProxyServer;
  /** pid of the data plane's own process when this engine supervises one (`process: separate`). */
  readonly pid?: number;
  /** Where clients send traffic, for messages (`http://127.0.0.1:8080`, or the instances' admin URLs). */
  readonly address: string;
  /**
   * Prometheus text of the data plane's own metrics, for the control API's `/metrics`: read in
   * process, or from the supervised proxy's admin API; '' for instances Prometheus scrapes itself.
   */
  metricsText(): Promise<string>;
  /** Stops what the engine started (the embedded proxy's listeners); idempotent. */
  close(): Promise<void>;
}
