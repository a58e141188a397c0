/**
 * Pure translation between the router interface (an app's versions and where its traffic
 * goes) and the built-in proxy's configuration: one virtual service per app, an A/B route
 * per match rule ahead of the main weighted route. Shared by every router that speaks the
 * built-in proxy's configuration, in process or over its admin API.
 */
import type { ProxyConfig, RouteConfig, ServiceConfig } from '../config/proxy-schema.js';
import { AviaryError } from '../errors.js';
import { addressesOf, type AbMatchRule, type AppRouteSpec, type RouteState } from './traffic-router.js';

/** A configuration document as the schema accepts it (validated outputs are valid inputs). */
type ConfigDocument = Omit<ProxyConfig, 'services'> & { services: unknown[] };

const AB_PREFIX = 'ab-';
const MAIN_ROUTE = 'main';

function routeCommon(spec: AppRouteSpec): Record<string, unknown> {
  const common: Record<string, unknown> = {};
  if (spec.timeoutMs !== undefined) common.timeout = spec.timeoutMs;
  if (spec.retries && spec.retries.attempts > 0) {
    common.retries = {
      attempts: spec.retries.attempts,
      ...(spec.retries.perTryTimeoutMs !== undefined ? { perTryTimeout: spec.retries.perTryTimeoutMs } : {}),
      ...(spec.retries.retryOn ? { retryOn: [...spec.retries.retryOn] } : {}),
    };
  }
  if (spec.rewritePrefix !== undefined) common.rewrite = { prefix: spec.rewritePrefix };
  return common;
}

/**
 * Refuses a route state the built-in proxy cannot serve: a weighted version without a
 * ready endpoint, or no version with an endpoint to route to (`AVIARY_ROUTE_NO_ENDPOINTS`).
 * {@link serviceConfigFor} starts with it; a router that keeps no configuration (the
 * in-memory one) calls it alone, so both refuse exactly the same states.
 */
export function assertRoutable(spec: AppRouteSpec, state: RouteState): void {
  let routed = false;
  for (const [version, weight] of Object.entries(state.weights)) {
    const routable = spec.versions.some((v) => v.name === version && addressesOf(v, spec.app).length > 0);
    if (weight > 0 && !routable) {
      throw new AviaryError(
        'AVIARY_ROUTE_NO_ENDPOINTS',
        `app ${spec.app}: version "${version}" has weight ${weight} but no ready endpoint; traffic is never sent to a version that cannot answer`,
      );
    }
    routed ||= routable;
  }
  if (!routed) {
    throw new AviaryError(
      'AVIARY_ROUTE_NO_ENDPOINTS',
      `app ${spec.app}: no version with a ready endpoint to route to`,
    );
  }
}

/** The service configuration of one app in a given route state. */
export function serviceConfigFor(spec: AppRouteSpec, state: RouteState): Record<string, unknown> {
  assertRoutable(spec, state);
  const routable = spec.versions.filter((v) => addressesOf(v, spec.app).length > 0);
  const routableNames = new Set(routable.map((v) => v.name));
  const pathPrefix = spec.pathPrefix ?? '/';
  const common = routeCommon(spec);
  const routes: Record<string, unknown>[] = [];
  state.abTesting?.rules.forEach((rule, i) => {
    if (!routableNames.has(state.abTesting!.version)) return;
    routes.push({
      name: `${AB_PREFIX}${i}`,
      match: { path: { prefix: pathPrefix }, headers: rule.headers ?? [], cookies: rule.cookies ?? [] },
      targets: [{ version: state.abTesting!.version, weight: 100 }],
      ...common,
    });
  });
  const targets = Object.entries(state.weights)
    .filter(([version]) => routableNames.has(version))
    .map(([version, weight]) => ({ version, weight }));
  routes.push({
    name: MAIN_ROUTE,
    match: { path: { prefix: pathPrefix } },
    targets,
    ...common,
    ...(state.mirror && routableNames.has(state.mirror.version) && state.mirror.percent > 0
      ? { mirror: { version: state.mirror.version, percent: state.mirror.percent } }
      : {}),
    ...(spec.sessionAffinity
      ? {
          sessionAffinity: {
            cookieName: spec.sessionAffinity.cookieName,
            maxAge: spec.sessionAffinity.maxAgeSeconds,
          },
        }
      : {}),
  });
  return {
    name: spec.app,
    hosts: spec.hosts && spec.hosts.length > 0 ? [...spec.hosts] : ['*'],
    versions: routable.map((v) => ({
      name: v.name,
      endpoints: [...addressesOf(v, spec.app)],
      ...(spec.http2 ? { protocol: 'http2' } : {}),
    })),
    routes,
  };
}

/** A copy of `config` with the app's service replaced (or added, or removed when `service` is undefined). */
export function withService(
  config: ProxyConfig,
  app: string,
  service: Record<string, unknown> | undefined,
): ConfigDocument {
  const services: unknown[] = config.services.filter((s) => s.name !== app);
  if (service) {
    const index = config.services.findIndex((s) => s.name === app);
    services.splice(index === -1 ? services.length : index, 0, service);
  }
  return { ...structuredClone(config), services };
}

function ruleOf(route: RouteConfig): AbMatchRule {
  const strip = (m: {
    name: string;
    exact?: string | undefined;
    prefix?: string | undefined;
    regex?: string | undefined;
    present?: boolean | undefined;
  }) => ({
    name: m.name,
    ...(m.exact !== undefined ? { exact: m.exact } : {}),
    ...(m.prefix !== undefined ? { prefix: m.prefix } : {}),
    ...(m.regex !== undefined ? { regex: m.regex } : {}),
    ...(m.present !== undefined ? { present: m.present } : {}),
  });
  return { headers: (route.match.headers ?? []).map(strip), cookies: (route.match.cookies ?? []).map(strip) };
}

/** Reads an app's route state back from a configuration. */
export function routeStateOf(config: ProxyConfig, app: string): RouteState {
  const service: ServiceConfig | undefined = config.services.find((s) => s.name === app);
  if (!service)
    throw new AviaryError(
      'AVIARY_ROUTE_UNKNOWN_APP',
      `app ${app} has no routes on this router; reconcile it first`,
    );
  return routeStateOfService(service);
}

/** Reads the route state of one app's service. */
export function routeStateOfService(service: ServiceConfig): RouteState {
  const main =
    service.routes.find((r) => r.name === MAIN_ROUTE) ?? service.routes[service.routes.length - 1]!;
  const weights: Record<string, number> = {};
  for (const t of main.targets) weights[t.version] = t.weight;
  const abRoutes = service.routes.filter((r) => r.name.startsWith(AB_PREFIX));
  const abVersion = abRoutes[0]?.targets[0]?.version;
  return {
    weights,
    ...(main.mirror ? { mirror: { version: main.mirror.version, percent: main.mirror.percent } } : {}),
    ...(abVersion !== undefined ? { abTesting: { version: abVersion, rules: abRoutes.map(ruleOf) } } : {}),
  };
}

/** The state a newly reconciled app starts in: everything to its first version. */
export function initialRouteState(spec: AppRouteSpec): RouteState {
  const first = spec.versions.find((v) => addressesOf(v, spec.app).length > 0);
  return { weights: first ? { [first.name]: 100 } : {} };
}

/**
 * The route state after reconciling an app whose routes were `current` (undefined: it had
 * none): the weights of versions still routable kept; when none is left, everything goes to
 * the first routable version. Null when no version can answer, so the app has no routes.
 */
export function reconciledState(current: RouteState | undefined, spec: AppRouteSpec): RouteState | null {
  const routable = spec.versions.filter((v) => addressesOf(v, spec.app).length > 0).map((v) => v.name);
  if (routable.length === 0) return null;
  let state = current ?? initialRouteState(spec);
  // A version that lost its last endpoint loses its weight: traffic never waits on it.
  const weights = Object.fromEntries(Object.entries(state.weights).filter(([v]) => routable.includes(v)));
  state = { ...state, weights };
  if (state.mirror && !routable.includes(state.mirror.version)) {
    const { mirror: _dropped, ...rest } = state;
    state = rest;
  }
  if (!Object.values(weights).some((w) => w > 0)) state = initialRouteState(spec);
  return state;
}

/** The configuration after reconciling an app (see {@link reconciledState}). */
export function reconciledConfig(current: ProxyConfig, spec: AppRouteSpec): ConfigDocument {
  const exists = current.services.some((s) => s.name === spec.app);
  const state = reconciledState(exists ? routeStateOf(current, spec.app) : undefined, spec);
  return withService(current, spec.app, state ? serviceConfigFor(spec, state) : undefined);
}
