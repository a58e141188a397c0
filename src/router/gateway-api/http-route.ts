/**
 * One app's routes as a Gateway API `HTTPRoute` (`gateway.networking.k8s.io/v1`, standard
 * channel of v1.6; https://gateway-api.sigs.k8s.io/reference/spec/#httproute), as Flagger's
 * Gateway API router writes it: an A/B rule per match rule to one version, then the default
 * rule with every version's Service and weight. A pure function: the router applies what it
 * returns with server-side apply, so the same input gives the same object and no new
 * generation.
 */
import type { KubernetesObject, V1OwnerReference } from '@kubernetes/client-node';
import { ConfigError } from '../../config/config-error.js';
import { AviaryError } from '../../errors.js';
import type { AppRouteSpec, RouteState, RoutedVersion, ServiceRef } from '../traffic-router.js';
import { headerMatchesOf, type HeaderMatch } from './ab-matches.js';
import { durationOf } from './route-duration.js';

export const GATEWAY_API_VERSION = 'gateway.networking.k8s.io/v1';
export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
/** The label on every HTTPRoute Aviary created; Aviary changes no route without it. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'aviary';
/** Gateway API allows 16 rules per route; one is the default rule. */
export const MAX_AB_RULES = 15;

/** A `ParentReference`: the Gateway (or listener of it) the route attaches to. */
export interface ParentReference {
  /** Default `gateway.networking.k8s.io`. */
  readonly group?: string;
  /** Default `Gateway`. */
  readonly kind?: string;
  /** Default the route's namespace. */
  readonly namespace?: string;
  readonly name: string;
  readonly sectionName?: string;
  readonly port?: number;
}

/** A `backendRef` to a Service port, with or without a weight. */
export interface ServiceBackendRef {
  readonly group: '';
  readonly kind: 'Service';
  readonly name: string;
  readonly namespace?: string;
  readonly port: number;
  readonly weight?: number;
}

export type HttpRouteFilter =
  | {
      readonly type: 'URLRewrite';
      readonly urlRewrite: {
        readonly path: { readonly type: 'ReplacePrefixMatch'; readonly replacePrefixMatch: string };
      };
    }
  | {
      readonly type: 'RequestMirror';
      readonly requestMirror: {
        readonly backendRef: ServiceBackendRef;
        readonly percent?: number;
        readonly fraction?: { readonly numerator: number; readonly denominator?: number };
      };
    };

export interface HttpRouteMatch {
  readonly path: { readonly type: 'PathPrefix'; readonly value: string };
  readonly headers?: readonly HeaderMatch[];
}

export interface HttpRouteRule {
  readonly matches: readonly HttpRouteMatch[];
  readonly filters?: readonly HttpRouteFilter[];
  readonly backendRefs: readonly ServiceBackendRef[];
  readonly timeouts?: { readonly request?: string; readonly backendRequest?: string };
}

/** A condition of a parent's status entry (`metav1.Condition`). */
export interface RouteCondition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason?: string;
  readonly message?: string;
  readonly observedGeneration?: number;
}

/** One `RouteParentStatus`: what one gateway controller says about the route. */
export interface RouteParentStatus {
  readonly parentRef: ParentReference;
  readonly controllerName: string;
  readonly conditions?: readonly RouteCondition[];
}

/** The part of an `HTTPRoute` Aviary writes and reads. */
export interface HttpRoute extends KubernetesObject {
  spec: {
    parentRefs: readonly ParentReference[];
    hostnames?: readonly string[];
    rules: readonly HttpRouteRule[];
  };
  status?: { parents?: readonly RouteParentStatus[] };
}

/** Where an app's HTTPRoute lives and what it attaches to (the Canary's `service` block). */
export interface HttpRouteOptions {
  /** The route's name: the app's apex Service (Flagger names it after `service.name`); default the app. */
  readonly name?: string;
  readonly namespace: string;
  /** The gateways (`service.gatewayRefs`); at least one. */
  readonly parentRefs: readonly ParentReference[];
  /** Host names (`service.hosts`); default the spec's `hosts`; `*` or none means any host. */
  readonly hostnames?: readonly string[];
  /** Set on the route so it is garbage-collected with its owner (the Canary). */
  readonly ownerReference?: V1OwnerReference;
}

function routerConfig(app: string, message: string): AviaryError {
  return new AviaryError('AVIARY_ROUTER_CONFIG', `router "gateway-api", app ${app}: ${message}`);
}

/** The Service of each version; refuses a version given as replica addresses. */
export function servicesOf(spec: AppRouteSpec): Map<string, ServiceRef> {
  const services = new Map<string, ServiceRef>();
  spec.versions.forEach((version: RoutedVersion, i) => {
    if (version.service === undefined)
      throw routerConfig(
        spec.app,
        `versions[${i}] (${version.name}): expected a Service {name, namespace, port}, got replica addresses; a Gateway API route sends traffic to Services`,
      );
    services.set(version.name, version.service);
  });
  return services;
}

function backendRefOf(service: ServiceRef, namespace: string, weight?: number): ServiceBackendRef {
  return {
    group: '',
    kind: 'Service',
    name: service.name,
    // Gateway API takes a missing namespace as the route's; another one needs a ReferenceGrant.
    ...(service.namespace !== namespace ? { namespace: service.namespace } : {}),
    port: service.port,
    ...(weight !== undefined ? { weight } : {}),
  };
}

/** Refuses a route state the route cannot carry, as the other routers refuse it. */
function checkState(spec: AppRouteSpec, state: RouteState, services: Map<string, ServiceRef>): void {
  const issues: { path: string; message: string }[] = [];
  let total = 0;
  for (const [version, weight] of Object.entries(state.weights)) {
    if (!Number.isInteger(weight) || weight < 0 || weight > 1_000_000)
      issues.push({ path: `weights.${version}`, message: `expected an integer 0..1000000, got ${weight}` });
    else if (weight > 0 && !services.has(version))
      throw new AviaryError(
        'AVIARY_ROUTE_NO_ENDPOINTS',
        `app ${spec.app}: version "${version}" has weight ${weight} but is not one of the app's versions (${[...services.keys()].join(', ')})`,
      );
    else if (services.has(version)) total += weight;
  }
  if (issues.length === 0 && total <= 0)
    issues.push({
      path: 'weights',
      message: 'expected at least one version with a weight > 0 (all weights are zero)',
    });
  const percent = state.mirror?.percent;
  if (percent !== undefined && (!Number.isInteger(percent) || percent < 0 || percent > 100))
    issues.push({ path: 'mirror.percent', message: `expected an integer 0..100, got ${percent}` });
  if (issues.length > 0) throw new ConfigError(`routes of app ${spec.app}`, issues);
  for (const [field, version] of [
    ['mirror', state.mirror?.version],
    ['abTesting', state.abTesting?.version],
  ] as const) {
    if (version !== undefined && !services.has(version))
      throw new AviaryError(
        'AVIARY_ROUTE_NO_ENDPOINTS',
        `app ${spec.app}: ${field} sends traffic to version "${version}", which is not one of the app's versions (${[...services.keys()].join(', ')})`,
      );
  }
  if ((state.abTesting?.rules.length ?? 0) > MAX_AB_RULES)
    throw routerConfig(
      spec.app,
      `abTesting.rules: ${state.abTesting?.rules.length} rules, but an HTTPRoute holds at most ${MAX_AB_RULES} besides its default rule`,
    );
}

function timeoutsOf(spec: AppRouteSpec): HttpRouteRule['timeouts'] | undefined {
  const request = spec.timeoutMs;
  const perTry = spec.retries?.perTryTimeoutMs;
  // GEP-1742: backendRequest is the timeout of one request to a backend, i.e. of each try;
  // Gateway API refuses one longer than the request timeout (CEL on `timeouts`).
  const backendRequest =
    perTry !== undefined && (request === undefined || perTry <= request) ? perTry : undefined;
  if (request === undefined && backendRequest === undefined) return undefined;
  return {
    ...(request !== undefined ? { request: durationOf(request) } : {}),
    ...(backendRequest !== undefined ? { backendRequest: durationOf(backendRequest) } : {}),
  };
}

/**
 * The HTTPRoute of an app in a route state. Every version stays in the default rule's
 * `backendRefs` (weight 0 when `state.weights` omits it), so a step changes weights only.
 * What Gateway API's standard channel cannot say is left out; `ignoredFieldsOf` lists it.
 * @throws AviaryError `AVIARY_ROUTER_CONFIG` for a version without a Service, no parentRefs, or
 *   A/B rules Gateway API cannot express; `AVIARY_ROUTE_NO_ENDPOINTS` for traffic to a version the
 *   spec does not have; `AVIARY_CONFIG_INVALID` for weights out of range or all zero.
 */
export function renderHttpRoute(spec: AppRouteSpec, state: RouteState, options: HttpRouteOptions): HttpRoute {
  const services = servicesOf(spec);
  if (options.parentRefs.length === 0)
    throw routerConfig(spec.app, 'parentRefs: expected at least one Gateway to attach the HTTPRoute to');
  checkState(spec, state, services);
  const namespace = options.namespace;
  const path = { type: 'PathPrefix', value: spec.pathPrefix ?? '/' } as const;
  const rewrite: HttpRouteFilter[] =
    spec.rewritePrefix !== undefined
      ? [
          {
            type: 'URLRewrite',
            urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: spec.rewritePrefix } },
          },
        ]
      : [];
  const timeouts = timeoutsOf(spec);
  const common = { ...(timeouts !== undefined ? { timeouts } : {}) };
  const withFilters = (filters: HttpRouteFilter[]) => (filters.length > 0 ? { filters } : {});

  const rules: HttpRouteRule[] = [];
  const ab = state.abTesting;
  ab?.rules.forEach((rule, i) => {
    const headers = headerMatchesOf(spec.app, rule, i);
    rules.push({
      matches: [{ path, ...(headers.length > 0 ? { headers } : {}) }],
      ...withFilters(rewrite),
      backendRefs: [backendRefOf(services.get(ab.version)!, namespace, 100)],
      ...common,
    });
  });
  const mirror: HttpRouteFilter[] = state.mirror
    ? [
        {
          type: 'RequestMirror',
          requestMirror: {
            backendRef: backendRefOf(services.get(state.mirror.version)!, namespace),
            percent: state.mirror.percent,
          },
        },
      ]
    : [];
  rules.push({
    matches: [{ path }],
    ...withFilters([...rewrite, ...mirror]),
    backendRefs: [...services].map(([version, service]) =>
      backendRefOf(service, namespace, state.weights[version] ?? 0),
    ),
    ...common,
  });

  const hosts = options.hostnames ?? spec.hosts ?? [];
  const hostnames = hosts.includes('*') ? [] : [...hosts];
  return {
    apiVersion: GATEWAY_API_VERSION,
    kind: 'HTTPRoute',
    metadata: {
      name: options.name ?? spec.app,
      namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY },
      ...(options.ownerReference !== undefined ? { ownerReferences: [options.ownerReference] } : {}),
    },
    spec: {
      parentRefs: options.parentRefs.map((ref) => ({ group: GATEWAY_GROUP, kind: 'Gateway', ...ref })),
      ...(hostnames.length > 0 ? { hostnames } : {}),
      rules,
    },
  };
}
