/**
 * A router with no data plane: it records each app's versions and route state in memory.
 * It lets the controller benchmark drive a thousand rollouts in one process, and tests
 * observe what a rollout asked of its router. Its error semantics are the embedded
 * router's: each change goes through the same check the built-in router's translation
 * starts with (`assertRoutable`), which refuses a weighted version without endpoints,
 * plus the schema's all-zero-weights check,
 * so a rollout that works against this router is not refused by the built-in one. A
 * property test compares the two call by call.
 */
import { ConfigError } from '../../src/config/config-error.js';
import { AviaryError } from '../../src/errors.js';
import { assertRoutable, initialRouteState } from '../../src/router/service-config.js';
import {
  addressesOf,
  type AppRouteSpec,
  type RouteState,
  type TrafficRouter,
} from '../../src/router/traffic-router.js';

interface AppEntry {
  spec: AppRouteSpec;
  /** Undefined while no version has an endpoint: the app then has no routes. */
  state: RouteState | undefined;
}

function routableNames(spec: AppRouteSpec): Set<string> {
  return new Set(spec.versions.filter((v) => addressesOf(v, spec.app).length > 0).map((v) => v.name));
}

/**
 * The state as the embedded router would read it back: versions without endpoints, a
 * mirror to such a version (or of 0 %) and A/B rules towards such a version are dropped.
 */
function effectiveState(spec: AppRouteSpec, state: RouteState): RouteState {
  const routable = routableNames(spec);
  const weights: Record<string, number> = {};
  for (const [version, weight] of Object.entries(state.weights))
    if (routable.has(version)) weights[version] = weight;
  const { mirror, abTesting } = state;
  return {
    weights,
    ...(mirror && mirror.percent > 0 && routable.has(mirror.version)
      ? { mirror: { version: mirror.version, percent: mirror.percent } }
      : {}),
    ...(abTesting && abTesting.rules.length > 0 && routable.has(abTesting.version)
      ? { abTesting: { version: abTesting.version, rules: [...abTesting.rules] } }
      : {}),
  };
}

/**
 * Refuses what the embedded router refuses for one app's route state: a weighted version
 * without an endpoint (`AVIARY_ROUTE_NO_ENDPOINTS`, from the very function the embedded
 * router uses) and all weights zero (`AVIARY_CONFIG_INVALID`, which its schema reports).
 * The rest of that schema (header names, regex syntax of A/B rules) is not repeated: rules
 * come from app specs already validated at load, and a schema parse per change would
 * dominate the cost of the bench this router exists for.
 */
function assertAccepted(spec: AppRouteSpec, state: RouteState): void {
  assertRoutable(spec, state);
  const routable = routableNames(spec);
  const total = Object.entries(state.weights)
    .filter(([version]) => routable.has(version))
    .reduce((sum, [, weight]) => sum + weight, 0);
  if (total <= 0) {
    throw new ConfigError(`routes of app ${spec.app}`, [
      { path: 'weights', message: 'expected at least one target with a weight > 0 (all weights are zero)' },
    ]);
  }
}

/** A copy the caller may keep: what the router recorded cannot change behind its back. */
function copyOf(state: RouteState): RouteState {
  return {
    weights: { ...state.weights },
    ...(state.mirror ? { mirror: { ...state.mirror } } : {}),
    ...(state.abTesting ? { abTesting: { ...state.abTesting, rules: [...state.abTesting.rules] } } : {}),
  };
}

/**
 * {@link TrafficRouter} kept in memory (`kind: 'in-memory'`). Nothing is routed: no request
 * ever reaches an endpoint. Refuses what the embedded router refuses, with the same codes:
 * `AVIARY_ROUTE_UNKNOWN_APP` for an app never reconciled (or finalized), and
 * `AVIARY_ROUTE_NO_ENDPOINTS` when a weighted version has no endpoint.
 */
export class InMemoryRouter implements TrafficRouter {
  readonly kind = 'in-memory';
  readonly #apps = new Map<string, AppEntry>();

  // eslint-disable-next-line @typescript-eslint/require-await -- errors must reject, not throw
  async reconcile(spec: AppRouteSpec, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const entry: AppEntry = this.#apps.get(spec.app) ?? { spec, state: undefined };
    entry.spec = spec;
    this.#apps.set(spec.app, entry);
    const routable = routableNames(spec);
    if (routable.size === 0) {
      entry.state = undefined;
      return;
    }
    // As the embedded router: a version that lost its last endpoint loses its weight (and a
    // mirror towards it); when no weight is left, everything goes to the first routable version.
    let state = effectiveState(spec, entry.state ?? initialRouteState(spec));
    if (!Object.values(state.weights).some((weight) => weight > 0)) state = initialRouteState(spec);
    assertAccepted(spec, state);
    entry.state = effectiveState(spec, state);
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- errors must reject, not throw
  async setRoutes(app: string, state: RouteState, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const entry = this.#entryOf(app, 'call reconcile first');
    assertAccepted(entry.spec, state);
    entry.state = effectiveState(entry.spec, state);
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- errors must reject, not throw
  async getRoutes(app: string, signal?: AbortSignal): Promise<RouteState> {
    signal?.throwIfAborted();
    const { state } = this.#entryOf(app, 'reconcile it first');
    if (!state)
      throw new AviaryError(
        'AVIARY_ROUTE_UNKNOWN_APP',
        `app ${app} has no routes on this router: no version has an endpoint; reconcile it with ready endpoints`,
      );
    return copyOf(state);
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- errors must reject, not throw
  async finalize(app: string, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.#apps.delete(app);
  }

  /** Names of the apps reconciled and not finalized. */
  apps(): string[] {
    return [...this.#apps.keys()];
  }

  #entryOf(app: string, next: string): AppEntry {
    const entry = this.#apps.get(app);
    if (!entry)
      throw new AviaryError(
        'AVIARY_ROUTE_UNKNOWN_APP',
        `app ${app} is not reconciled on this router; ${next}`,
      );
    return entry;
  }
}
