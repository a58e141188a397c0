/**
 * A router as the composition root runs it: the {@link TrafficRouter} the controller drives,
 * "what to measure" on its data plane (Flagger's per-router observers), and its life cycle.
 * Each router kind's factory in router-registry.ts builds one.
 */
import type { TrafficSource } from '../analysis/traffic-source.js';
import type { MetricObserver } from '../metrics/metric-observer.js';
import type { ProxyServer } from '../proxy/proxy-server.js';
import type { TrafficRouter } from './traffic-router.js';

/** One running router kind. */
export interface RouterEngine {
  readonly router: TrafficRouter;
  /** Answers the built-in checks (success rate, P99) from this router's data plane. */
  readonly observer: MetricObserver;
  /**
   * Per-version request counts read in process, for the statistical judge; absent when the
   * data plane runs in other processes.
   */
  readonly traffic?: TrafficSource;
  /** The built-in proxy, when this engine runs it in this process (`embedded`). */
  readonly proxy?: ProxyServer;
  /** Where clients send traffic, for messages (`http://127.0.0.1:8080`, or the instances' admin URLs). */
  readonly address: string;
  /** Prometheus text of the data plane's own metrics, when it runs in this process; else ''. */
  metricsText(): string;
  /** Stops what the engine started (the embedded proxy's listeners); idempotent. */
  close(): Promise<void>;
}
