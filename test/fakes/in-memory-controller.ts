/**
 * A real `RolloutController` over the in-memory target and a router a test chooses, with the
 * built-in gates and no metrics: for tests of the controller's own scheduling and of the APIs
 * served over it, where processes and a data plane would only add time.
 */
import type { MetricObserver } from '../../src/metrics/metric-observer.js';
import { RolloutController, type ControllerOptions } from '../../src/rollout/controller/controller.js';
import { GateStore } from '../../src/rollout/webhooks/gates.js';
import { WebhookClient } from '../../src/rollout/webhooks/webhook-client.js';
import type { TrafficRouter } from '../../src/router/traffic-router.js';
import { InMemoryRouter } from './in-memory-router.js';
import { InMemoryTarget } from './in-memory-target.js';

/** What a test may choose; everything else is the controller's default. */
export interface InMemoryControllerOptions {
  readonly stateDir: string;
  /** Default a fresh {@link InMemoryRouter}. */
  readonly router?: TrafficRouter;
  /** Default the controller's own state store in `stateDir`. */
  readonly store?: ControllerOptions['store'];
  readonly maxTickMs?: number;
  /** The controller's wall and monotonic clocks (ControllerOptions); default the real ones. */
  readonly now?: () => number;
  readonly monotonic?: () => number;
}

/** An observer for apps without metric checks: asking it is a test bug, and says so. */
const NO_METRICS: MetricObserver = {
  kind: 'unused',
  observe: (metric) => Promise.reject(new Error(`${metric} is not asked in this test`)),
};

/** The controller, not started. */
export function inMemoryController(options: InMemoryControllerOptions): RolloutController {
  const gates = new GateStore();
  const webhooks = new WebhookClient({ gates });
  return new RolloutController({
    stateDir: options.stateDir,
    ...(options.store !== undefined && { store: options.store }),
    executor: {
      target: new InMemoryTarget(),
      router: options.router ?? new InMemoryRouter(),
      webhooks,
      alerts: () => undefined,
      namespace: 'test',
    },
    checks: { webhooks, observer: NO_METRICS },
    gates,
    ...(options.maxTickMs !== undefined && { maxTickMs: options.maxTickMs }),
    ...(options.now !== undefined && { now: options.now }),
    ...(options.monotonic !== undefined && { monotonic: options.monotonic }),
  });
}
