/**
 * Drives one or more standalone Aviary proxies (`aviary proxy`) through their admin APIs as
 * one data plane. Every call goes to every instance at once. The router keeps, per app, the
 * spec and route state last set through it and writes that same service to each instance,
 * so instances converge however each started: one restarted empty gets the whole service
 * back at the next `reconcile`. `getRoutes` reads every instance and rejects with
 * `AVIARY_ROUTE_DIVERGED` when one no longer holds what was set; `canDiverge` tells its
 * callers to read routes back now and then and apply them again (route-divergence.ts).
 */
import { AviaryError } from '../errors.js';
import { KeyedQueue } from '../keyed-queue.js';
import { AdminApiClient, type AdminEndpoint } from './admin-api-client.js';
import { divergedInstances, normalisedService, RouteDivergenceError } from './route-divergence.js';
import {
  reconciledConfig,
  reconciledState,
  routeStateOf,
  serviceConfigFor,
  withService,
} from './service-config.js';
import type { AppRouteSpec, RouteState, TrafficRouter } from './traffic-router.js';

export type { AdminEndpoint } from './admin-api-client.js';

/** Options of an {@link AdminApiRouter}: `router.kind: aviary-admin` with its `endpoints`. */
export interface AdminApiRouterOptions {
  /** The `aviary proxy` admin APIs, at least one, each URL once; every change goes to all of them. */
  readonly endpoints: readonly AdminEndpoint[];
  /** Timeout of each call to one instance; default 10 s. */
  readonly timeoutMs?: number;
}

/** The single-instance form of the options, as before several instances were supported. */
export interface SingleAdminApiRouterOptions extends AdminEndpoint {
  /** Timeout of each call; default 10 s. */
  readonly timeoutMs?: number;
}

/** A call that failed on some instances: one failure per instance, each naming its URL. */
export interface InstanceFailure {
  readonly instance: string;
  readonly error: Error;
}

/**
 * A call that did not succeed on every instance (of several). Its code is the one its
 * failures share, else `AVIARY_ROUTER_UNAVAILABLE`. A change was still applied to the others.
 */
export class RouterInstancesError extends AviaryError {
  readonly failures: readonly InstanceFailure[];

  constructor(subject: string, failures: readonly InstanceFailure[], instances: number, write: boolean) {
    const codes = new Set(failures.map((f) => (f.error as Partial<AviaryError>).code));
    const [shared] = codes;
    const list = failures.map((f) => f.error.message).join('; ');
    const others = instances - failures.length;
    const applied =
      write && others > 0 ? `; applied on the other ${others}, and applied again by the next call` : '';
    super(
      codes.size === 1 && shared !== undefined ? shared : 'AVIARY_ROUTER_UNAVAILABLE',
      `${subject}: failed on ${failures.length} of ${instances} router instances: ${list}${applied}`,
      { cause: failures[0]?.error },
    );
    this.failures = failures;
  }
}

/** What every instance should hold for an app. `state` null: no routes; undefined: not set through this router yet. */
interface AppModel {
  readonly spec: AppRouteSpec;
  readonly state: RouteState | null | undefined;
}

const DEFAULT_TIMEOUT_MS = 10_000;

function configError(message: string): AviaryError {
  return new AviaryError('AVIARY_ROUTER_CONFIG', `router "aviary-admin": ${message}`);
}

function checkedEndpoints(options: AdminApiRouterOptions | SingleAdminApiRouterOptions): AdminEndpoint[] {
  const endpoints = 'endpoints' in options ? options.endpoints : [options];
  if (endpoints.length === 0)
    throw configError(
      'endpoints: expected at least one admin API, e.g. [{ url: http://127.0.0.1:9901, token }]',
    );
  const seen = new Set<string>();
  return endpoints.map((endpoint, i) => {
    let url: URL | undefined;
    try {
      url = new URL(endpoint.url);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw configError(
        `endpoints[${i}].url: expected an http(s) URL such as http://127.0.0.1:9901, got "${endpoint.url}"`,
      );
    if (seen.has(url.origin)) throw configError(`endpoints[${i}].url: ${url.origin} is listed twice`);
    seen.add(url.origin);
    if (endpoint.token.trim() === '')
      throw configError(
        `endpoints[${i}].token: expected the bearer token of ${url.origin}, got an empty string`,
      );
    return { url: url.origin, token: endpoint.token };
  });
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

/** {@link TrafficRouter} over one or more remote `aviary proxy` instances. */
export class AdminApiRouter implements TrafficRouter {
  readonly kind = 'aviary-admin';
  /** A remote instance can restart empty or be edited behind this router's back. */
  readonly canDiverge = true;
  readonly #clients: readonly AdminApiClient[];
  readonly #apps = new Map<string, AppModel>();
  /** Calls for one app run one at a time, so every instance sees them in the same order. */
  readonly #queue = new KeyedQueue();

  constructor(options: AdminApiRouterOptions | SingleAdminApiRouterOptions) {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(timeoutMs > 0))
      throw configError(`timeoutMs: expected a number of milliseconds > 0, got ${timeoutMs}`);
    this.#clients = checkedEndpoints(options).map((endpoint) => new AdminApiClient(endpoint, timeoutMs));
  }

  /** Admin API URLs of the instances, in the order given. */
  get instances(): string[] {
    return this.#clients.map((c) => c.url);
  }

  reconcile(spec: AppRouteSpec, signal?: AbortSignal): Promise<void> {
    const app = spec.app;
    return this.#queue.run(app, async () => {
      signal?.throwIfAborted();
      const known = this.#apps.get(app)?.state;
      if (known === undefined) {
        // Nothing set through this router yet (a new app, or a restarted controller): each
        // instance keeps its own weights, as one router would; setRoutes brings them in line.
        const state = reconciledState(undefined, spec) === null ? null : undefined;
        this.#apps.set(app, { spec, state });
        await this.#onEvery(`reconcile of app ${app}`, true, signal, (client) =>
          client.update(`reconcile of app ${app}`, (current) => reconciledConfig(current, spec), signal),
        );
        return;
      }
      const state = reconciledState(known ?? undefined, spec);
      const service = state ? serviceConfigFor(spec, state) : undefined;
      this.#apps.set(app, { spec, state });
      await this.#write(app, `reconcile of app ${app}`, service, signal);
    });
  }

  setRoutes(app: string, state: RouteState, signal?: AbortSignal): Promise<void> {
    return this.#queue.run(app, async () => {
      signal?.throwIfAborted();
      const model = this.#apps.get(app);
      if (!model)
        throw new AviaryError(
          'AVIARY_ROUTE_UNKNOWN_APP',
          `app ${app} is not reconciled on this router; call reconcile first`,
        );
      // Refused here, before any instance is touched, when a weighted version has no endpoint.
      const service = serviceConfigFor(model.spec, state);
      this.#apps.set(app, { spec: model.spec, state });
      await this.#write(app, `routes of app ${app}`, service, signal);
    });
  }

  getRoutes(app: string, signal?: AbortSignal): Promise<RouteState> {
    return this.#queue.run(app, async () => {
      signal?.throwIfAborted();
      const configs = await this.#onEvery(`routes of app ${app}`, false, signal, (client) =>
        client.readConfig(signal),
      );
      const observed = configs.map(({ config }, i) => ({ instance: this.#clients[i]!.url, config }));
      const model = this.#apps.get(app);
      const expected =
        model?.state === undefined
          ? undefined
          : model.state === null
            ? null
            : normalisedService(serviceConfigFor(model.spec, model.state));
      const diverged = divergedInstances(app, expected, observed);
      if (diverged.length > 0) throw new RouteDivergenceError(app, diverged, observed.length);
      return routeStateOf(observed[0]!.config, app);
    });
  }

  finalize(app: string, signal?: AbortSignal): Promise<void> {
    return this.#queue.run(app, async () => {
      signal?.throwIfAborted();
      this.#apps.delete(app);
      await this.#write(app, `removal of app ${app}`, undefined, signal);
    });
  }

  /** Replaces the app's service on every instance (removes it when `service` is undefined). */
  async #write(
    app: string,
    subject: string,
    service: Record<string, unknown> | undefined,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    await this.#onEvery(subject, true, signal, (client) =>
      client.update(subject, (current) => withService(current, app, service), signal),
    );
  }

  /**
   * Runs `call` on every instance at once and waits for all of them, so a change reaches
   * every instance it can even when one is down. With one instance its error is rethrown as
   * is; with several, a {@link RouterInstancesError} lists each failed instance.
   */
  async #onEvery<T>(
    subject: string,
    write: boolean,
    signal: AbortSignal | undefined,
    call: (client: AdminApiClient) => Promise<T>,
  ): Promise<T[]> {
    const settled = await Promise.allSettled(this.#clients.map(call));
    signal?.throwIfAborted();
    const values: T[] = [];
    const failures: InstanceFailure[] = [];
    settled.forEach((result, i) => {
      if (result.status === 'fulfilled') values.push(result.value);
      else failures.push({ instance: this.#clients[i]!.url, error: asError(result.reason) });
    });
    if (failures.length === 0) return values;
    if (this.#clients.length === 1) throw failures[0]!.error;
    throw new RouterInstancesError(subject, failures, this.#clients.length, write);
  }
}
