/**
 * The `gateway-api` router: each app's traffic as one Kubernetes Gateway API `HTTPRoute`,
 * written with server-side apply as Aviary's field manager (docs/adr/0019-kubernetes-operator.md).
 * A step counts only once every gateway the route attaches to has accepted the route as
 * written (`Accepted=True` at its current generation), as in Flagger's Gateway API router.
 * Versions are Services (`<svc>-primary`, `<svc>-canary`); the router never touches a route it
 * did not create, and never deletes one: finalizing leaves all traffic on the primary, as
 * Flagger's finalizer does, so deleting a Canary does not take the app down.
 */
import { AviaryError } from '../../errors.js';
import { KeyedQueue } from '../../keyed-queue.js';
import type { KubeApi } from '../../kubernetes/kube-api.js';
import type { AppRouteSpec, RouteState, TrafficRouter } from '../traffic-router.js';
import {
  GATEWAY_API_VERSION,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  renderHttpRoute,
  type HttpRoute,
  type HttpRouteOptions,
} from './http-route.js';
import { ignoredFieldsOf, type IgnoredField } from './ignored-fields.js';
import { RouteNotAcceptedError, waitUntilAccepted } from './route-acceptance.js';
import { reconciledRouteState, routeStateOfHttpRoute } from './route-state.js';

/** Options of a {@link GatewayApiRouter}. */
export interface GatewayApiRouterOptions {
  /** Where each app's HTTPRoute lives and which gateways it attaches to (the Canary's `service`). */
  readonly routeOf: (app: string) => HttpRouteOptions;
  /** How long `setRoutes` waits for the gateways to accept a change; default 10 s. */
  readonly acceptanceTimeoutMs?: number;
  /** Time between reads of the route while waiting; default 250 ms. */
  readonly acceptancePollMs?: number;
  /**
   * Told, at each reconcile, which fields of the app's spec the route cannot carry (retries and
   * session affinity: experimental in Gateway API v1.6); the operator reports them on the Canary.
   */
  readonly onIgnoredFields?: (app: string, fields: readonly IgnoredField[]) => void;
  /** Monotonic milliseconds (tests); default `performance.now`. */
  readonly now?: () => number;
}

interface AppEntry {
  readonly spec: AppRouteSpec;
  readonly options: HttpRouteOptions;
  readonly ignored: readonly IgnoredField[];
}

/** The route as last applied: what was sent, in which state, its generation, whether accepted. */
interface Applied {
  readonly json: string;
  readonly state: RouteState;
  readonly generation: number;
  readonly accepted: boolean;
  readonly at: number;
}

/**
 * How long a route applied and accepted is taken to hold without being read back; after that
 * the next call applies it again (server-side apply puts back anything changed meanwhile).
 */
const REAPPLY_AFTER_MS = 5 * 60_000;

const DEFAULT_ACCEPTANCE_TIMEOUT_MS = 10_000;
const DEFAULT_ACCEPTANCE_POLL_MS = 250;

function unknownApp(app: string): AviaryError {
  return new AviaryError(
    'AVIARY_ROUTE_UNKNOWN_APP',
    `app ${app} is not reconciled on this router; call reconcile first`,
  );
}

/** {@link TrafficRouter} over Gateway API HTTPRoutes on a Kubernetes API server. */
export class GatewayApiRouter implements TrafficRouter {
  readonly kind = 'gateway-api';
  readonly #api: KubeApi;
  readonly #options: GatewayApiRouterOptions;
  readonly #apps = new Map<string, AppEntry>();
  /** Calls for one app run one at a time: a step's apply and its wait are not interleaved. */
  readonly #queue = new KeyedQueue();
  /**
   * Each app's route as last applied. The controller reconciles and sets routes whenever the
   * versions' endpoints change (pods starting and stopping), which a route to Services does
   * not depend on: a route equal to the one applied and accepted is neither read, applied nor
   * waited for again (with 200 Canaries, that was 3 writes and 5 reads per Canary per step).
   */
  readonly #applied = new Map<string, Applied>();
  readonly #now: () => number;

  constructor(api: KubeApi, options: GatewayApiRouterOptions) {
    for (const key of ['acceptanceTimeoutMs', 'acceptancePollMs'] as const) {
      const value = options[key];
      if (value !== undefined && !(value > 0))
        throw new AviaryError(
          'AVIARY_ROUTER_CONFIG',
          `router "gateway-api": ${key}: expected a number of milliseconds > 0, got ${value}`,
        );
    }
    this.#api = api;
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
  }

  /** The last apply of `app`'s route, if `route` is what it sent and it is recent enough. */
  #sameAsApplied(app: string, route: HttpRoute): Applied | undefined {
    const applied = this.#applied.get(app);
    if (applied === undefined || this.#now() - applied.at > REAPPLY_AFTER_MS) return undefined;
    return applied.json === JSON.stringify(route) ? applied : undefined;
  }

  /** The fields of the app's spec its route leaves out, as of its last reconcile. */
  ignoredFields(app: string): readonly IgnoredField[] {
    return this.#apps.get(app)?.ignored ?? [];
  }

  /**
   * Creates or updates the app's HTTPRoute, keeping the weights, mirror and A/B rules it
   * carries. Does not wait for the gateways: `setRoutes` does, before a step counts.
   */
  reconcile(spec: AppRouteSpec, signal?: AbortSignal): Promise<void> {
    return this.#queue.run(spec.app, async () => {
      signal?.throwIfAborted();
      const options = this.#options.routeOf(spec.app);
      const ignored = ignoredFieldsOf(spec);
      const last = this.#applied.get(spec.app);
      if (last !== undefined) {
        const state = reconciledRouteState(last.state, spec);
        if (this.#sameAsApplied(spec.app, renderHttpRoute(spec, state, options)) !== undefined) {
          this.#apps.set(spec.app, { spec, options, ignored });
          return;
        }
      }
      const existing = await this.#readOwned(spec.app, options);
      signal?.throwIfAborted();
      const current = existing ? routeStateOfHttpRoute(existing, spec) : undefined;
      const state = reconciledRouteState(current, spec);
      const route = renderHttpRoute(spec, state, options);
      const applied = await this.#api.apply(route);
      this.#applied.set(spec.app, {
        json: JSON.stringify(route),
        state,
        generation: applied.metadata?.generation ?? 0,
        accepted: false,
        at: this.#now(),
      });
      this.#apps.set(spec.app, { spec, options, ignored });
      if (ignored.length > 0) this.#options.onIgnoredFields?.(spec.app, ignored);
    });
  }

  /**
   * Applies the app's route in `state` and waits until every gateway it attaches to accepts
   * it. Rejects with `AVIARY_ROUTER_UNAVAILABLE` (a `RouteNotAcceptedError`) naming the parent
   * and its reason when one refuses it, or when none answers in `acceptanceTimeoutMs`; the
   * route stays as applied, and the next call applies it again.
   */
  setRoutes(app: string, state: RouteState, signal?: AbortSignal): Promise<void> {
    return this.#queue.run(app, async () => {
      signal?.throwIfAborted();
      const entry = this.#apps.get(app);
      if (!entry) throw unknownApp(app);
      const route = renderHttpRoute(entry.spec, state, entry.options);
      const same = this.#sameAsApplied(app, route);
      if (same?.accepted === true) return;
      let generation = same?.generation;
      if (same === undefined) {
        await this.#readOwned(app, entry.options);
        signal?.throwIfAborted();
        this.#applied.delete(app);
        generation = (await this.#api.apply(route)).metadata?.generation ?? 0;
      }
      const name = `${entry.options.namespace}/${route.metadata!.name!}`;
      try {
        await waitUntilAccepted(name, generation ?? 0, {
          read: () => this.#api.read<HttpRoute>(this.#refOf(app, entry.options)),
          timeoutMs: this.#options.acceptanceTimeoutMs ?? DEFAULT_ACCEPTANCE_TIMEOUT_MS,
          intervalMs: this.#options.acceptancePollMs ?? DEFAULT_ACCEPTANCE_POLL_MS,
          signal,
        });
      } catch (error) {
        if (error instanceof RouteNotAcceptedError && error.acceptance.kind === 'pending') {
          // No verdict yet (a slow gateway controller): the route is on the server as sent,
          // so the next call only waits again; applying the same route once more would cost a
          // write and make no new generation for the gateway to answer.
          this.#applied.set(app, {
            json: JSON.stringify(route),
            state,
            generation: generation ?? 0,
            accepted: false,
            at: same?.at ?? this.#now(),
          });
        } else {
          // Refused, deleted or aborted: applied again at the next call, which may find it
          // changed or gone.
          this.#applied.delete(app);
        }
        throw error;
      }
      const at = same?.at ?? this.#now();
      this.#applied.set(app, {
        json: JSON.stringify(route),
        state,
        generation: generation ?? 0,
        accepted: true,
        at,
      });
    });
  }

  /** Reads the app's HTTPRoute back from the API server. */
  getRoutes(app: string, signal?: AbortSignal): Promise<RouteState> {
    return this.#queue.run(app, async () => {
      signal?.throwIfAborted();
      const entry = this.#apps.get(app);
      if (!entry) throw unknownApp(app);
      const route = await this.#api.read<HttpRoute>(this.#refOf(app, entry.options));
      signal?.throwIfAborted();
      if (route === undefined)
        throw new AviaryError(
          'AVIARY_ROUTE_UNKNOWN_APP',
          `app ${app}: HTTPRoute ${entry.options.namespace}/${this.#refOf(app, entry.options).name} does not exist; reconcile the app again`,
        );
      return routeStateOfHttpRoute(route, entry.spec);
    });
  }

  /**
   * Sends all traffic to the primary (the first version) with no mirror or A/B rule, and
   * forgets the app. The route stays, so the app keeps answering once its Canary is gone; it
   * is deleted with its owner when `ownerReference` was set. Does not wait for the gateways.
   * An app this router does not know, or whose route is gone, is left alone.
   */
  finalize(app: string, signal?: AbortSignal): Promise<void> {
    return this.#queue.run(app, async () => {
      signal?.throwIfAborted();
      const entry = this.#apps.get(app);
      if (!entry) return;
      const existing = await this.#readOwned(app, entry.options);
      signal?.throwIfAborted();
      const primary = entry.spec.versions[0]?.name;
      if (existing !== undefined && primary !== undefined)
        await this.#api.apply(renderHttpRoute(entry.spec, { weights: { [primary]: 100 } }, entry.options));
      this.#apps.delete(app);
      this.#applied.delete(app);
    });
  }

  #refOf(app: string, options: HttpRouteOptions) {
    return {
      apiVersion: GATEWAY_API_VERSION,
      kind: 'HTTPRoute',
      namespace: options.namespace,
      name: options.name ?? app,
    };
  }

  /** The app's route, if any; refuses one Aviary did not create (`AVIARY_ROUTER_CONFIG`). */
  async #readOwned(app: string, options: HttpRouteOptions): Promise<HttpRoute | undefined> {
    const ref = this.#refOf(app, options);
    const route = await this.#api.read<HttpRoute>(ref);
    if (route !== undefined && route.metadata?.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY)
      throw new AviaryError(
        'AVIARY_ROUTER_CONFIG',
        `app ${app}: HTTPRoute ${ref.namespace}/${ref.name} exists but was not created by Aviary (no label ${MANAGED_BY_LABEL}=${MANAGED_BY}); Aviary does not take over routes: rename it, or name another route for the app`,
      );
    return route;
  }
}
