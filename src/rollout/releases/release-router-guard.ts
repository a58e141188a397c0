/**
 * Keeps the rollout controller's hands off the routes of apps under release-file control.
 * The controller re-applies its own `primary`/`canary` routes at every tick and removes an
 * app's routes when it lets the app go; once the release manager owns an app's route, those
 * calls must not land, or the controller would undo the operator's split. The controller is
 * given this router; the release manager uses the one it wraps.
 */
import type { AppRouteSpec, RouteState, TrafficRouter } from '../../router/traffic-router.js';

/** A {@link TrafficRouter} that ignores changes to claimed apps. */
export class ReleaseRouterGuard implements TrafficRouter {
  readonly kind: string;
  readonly canDiverge: boolean;
  readonly #claimed = new Set<string>();

  constructor(private readonly inner: TrafficRouter) {
    this.kind = inner.kind;
    this.canDiverge = inner.canDiverge === true;
  }

  /** From now on, changes to `app`'s routes through this router are ignored. */
  claim(app: string): void {
    this.#claimed.add(app);
  }

  /** Lets changes to `app`'s routes through again. */
  unclaim(app: string): void {
    this.#claimed.delete(app);
  }

  /** True when `app` is claimed. */
  isClaimed(app: string): boolean {
    return this.#claimed.has(app);
  }

  async reconcile(spec: AppRouteSpec, signal?: AbortSignal): Promise<void> {
    if (this.#claimed.has(spec.app)) return signal?.throwIfAborted();
    await this.inner.reconcile(spec, signal);
  }

  async setRoutes(app: string, state: RouteState, signal?: AbortSignal): Promise<void> {
    if (this.#claimed.has(app)) return signal?.throwIfAborted();
    await this.inner.setRoutes(app, state, signal);
  }

  getRoutes(app: string, signal?: AbortSignal): Promise<RouteState> {
    return this.inner.getRoutes(app, signal);
  }

  async finalize(app: string, signal?: AbortSignal): Promise<void> {
    if (this.#claimed.has(app)) return signal?.throwIfAborted();
    await this.inner.finalize(app, signal);
  }
}
