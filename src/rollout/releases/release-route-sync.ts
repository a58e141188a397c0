/**
 * Keeps an app's route in line with its committed release: the versions that have ready
 * endpoints, at the release's weights (draining ones at 0). Runs after every apply, when a
 * replica leaves, and on a timer; calls for one app are serialised and skipped when nothing
 * changed, so a stale computation never lands after a newer one. On a router that can
 * diverge (remote instances), the routes are also read back every `routeCheckMs` and applied
 * again when an instance no longer holds them.
 */
import type { AppSpec } from '../../config/app-schema.js';
import { targetAppOf, type Release } from '../../config/release-schema.js';
import { DEFAULT_ROUTE_CHECK_MS, routeCheckDue, routeDivergence } from '../../router/route-divergence.js';
import type { TrafficRouter } from '../../router/traffic-router.js';
import type { Target } from '../../target/target.js';
import { appRouteSpec } from '../controller/app-routes.js';
import { releaseRouting } from './release-plan.js';

/** What the sync reads of a release, and the key of what it last routed. */
export interface RoutedRelease {
  readonly template: AppSpec;
  readonly release: Release;
  readonly draining: ReadonlySet<string>;
  lastRouted: string;
}

/** Serialised route updates per app. */
export class ReleaseRouteSync {
  readonly #running = new Map<string, Promise<void>>();
  /** When (`performance.now()`) each app's routes were last applied or read back. */
  readonly #checkedAt = new Map<string, number>();

  constructor(
    private readonly target: Target,
    private readonly router: TrafficRouter,
    private readonly signal: AbortSignal,
    private readonly routeCheckMs = DEFAULT_ROUTE_CHECK_MS,
  ) {}

  /** True while an update of `app` runs or waits. */
  busy(app: string): boolean {
    return this.#running.has(app);
  }

  /** Updates the routes of `app` from what `current()` returns when the update's turn comes. */
  sync(app: string, current: () => RoutedRelease | undefined): Promise<void> {
    const previous = this.#running.get(app) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.#apply(app, current()));
    this.#running.set(app, run);
    return run.finally(() => {
      if (this.#running.get(app) === run) this.#running.delete(app);
    });
  }

  /** Resolves once no update is running. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.#running.values()]);
  }

  async #apply(app: string, routed: RoutedRelease | undefined): Promise<void> {
    if (!routed) return;
    const names = [...routed.release.entries.map((e) => e.name), ...routed.draining];
    const endpoints = new Map<string, readonly string[]>();
    for (const name of names)
      endpoints.set(name, (await this.target.status(targetAppOf(app, name), 'primary'))?.endpoints ?? []);
    const routing = releaseRouting(routed.release.entries, routed.draining, endpoints);
    const key = JSON.stringify(routing);
    if (key === routed.lastRouted && !(await this.#routesLost(app))) return;
    await this.#dropLostVersions(app, endpoints);
    const exposure = appRouteSpec(routed.template, { primary: [], canary: [] });
    await this.router.reconcile({ ...exposure, versions: routing.versions }, this.signal);
    if (routing.weights) await this.router.setRoutes(app, { weights: routing.weights }, this.signal);
    routed.lastRouted = key;
    if (this.router.canDiverge) this.#checkedAt.set(app, performance.now());
  }

  /** True when a router that can diverge, read back every `routeCheckMs`, no longer holds the app's routes. */
  async #routesLost(app: string): Promise<boolean> {
    if (!this.router.canDiverge) return false;
    const now = performance.now();
    if (!routeCheckDue(this.router, this.#checkedAt.get(app), now, this.routeCheckMs)) return false;
    this.#checkedAt.set(app, now);
    return (await routeDivergence(this.router, app, this.signal)) !== undefined;
  }

  /**
   * A router keeps an app's weights across `reconcile` and refuses weight on a version without
   * endpoints, so a weighted version that lost its last endpoint (a crash) is first taken out
   * of the current weights; the others keep their ratio until the new weights are set.
   */
  async #dropLostVersions(app: string, endpoints: ReadonlyMap<string, readonly string[]>): Promise<void> {
    const current = await this.router.getRoutes(app).catch(() => undefined);
    if (current === undefined) return;
    const isLost = ([name, weight]: [string, number]): boolean =>
      weight > 0 && (endpoints.get(name)?.length ?? 0) === 0;
    const entries = Object.entries(current.weights);
    const kept = entries.filter((entry) => !isLost(entry));
    if (kept.length < entries.length && kept.some(([, weight]) => weight > 0))
      await this.router.setRoutes(app, { weights: Object.fromEntries(kept) }, this.signal);
  }
}
