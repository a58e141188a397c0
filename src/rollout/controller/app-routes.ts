/**
 * How an app's roles appear on a router: versions named `primary` and `canary` (Flagger's
 * `<app>-primary` and `<app>-canary` services), and `baseline` while a fresh baseline runs
 * (docs/adr/0018-fresh-baseline.md), the app's exposure and Flagger's `service`
 * settings, and the route state a `set-routes` action stands for.
 */
import { DEFAULT_REQUEST_TIMEOUT_MS } from '../../config/app-canary.js';
import type { AppSpec } from '../../config/app-schema.js';
import type { AbMatchRule, AppRouteSpec, RouteState, RoutedVersion } from '../../router/traffic-router.js';
import { roleServiceRef } from '../../target/kubernetes/deployment-objects.js';
import type { VersionRole } from '../../target/target.js';
import type { RolloutAction } from '../step/actions.js';

/** Ready endpoints per role, as the target reports them. */
export interface RoleEndpoints {
  readonly primary: readonly string[];
  readonly canary: readonly string[];
  /** The fresh baseline's; empty or absent when none runs. */
  readonly baseline?: readonly string[];
}

/**
 * A role as the router sees it: the addresses of its ready replicas, or, for Kubernetes
 * Deployments, the role's Service (`<svc>-primary`, `<svc>-canary`, as Flagger names them),
 * which a cluster router such as Gateway API sends traffic to.
 */
function versionOf(app: AppSpec, role: VersionRole, endpoints: readonly string[]): RoutedVersion {
  return app.workload.kind === 'deployment'
    ? { name: role, service: roleServiceRef(app.workload, role) }
    : { name: role, endpoints };
}

/** The router-facing spec of an app with its current endpoints. */
export function appRouteSpec(app: AppSpec, endpoints: RoleEndpoints): AppRouteSpec {
  const service = app.canary.service;
  const affinity = app.canary.analysis.sessionAffinity;
  return {
    app: app.name,
    ...(app.hosts ? { hosts: app.hosts } : {}),
    ...(app.path ? { pathPrefix: app.path } : {}),
    ...(service.rewrite ? { rewritePrefix: service.rewrite.uri } : {}),
    versions: [
      versionOf(app, 'primary', endpoints.primary),
      versionOf(app, 'canary', endpoints.canary),
      ...(endpoints.baseline !== undefined && endpoints.baseline.length > 0
        ? [versionOf(app, 'baseline', endpoints.baseline)]
        : []),
    ],
    ...requestTimeoutOf(service.timeout),
    ...(service.retries
      ? {
          retries: {
            attempts: service.retries.attempts,
            ...(service.retries.perTryTimeout !== undefined
              ? { perTryTimeoutMs: service.retries.perTryTimeout }
              : {}),
            retryOn: service.retries.retryOn,
          },
        }
      : {}),
    ...(affinity
      ? { sessionAffinity: { cookieName: affinity.cookieName, maxAgeSeconds: affinity.maxAge } }
      : {}),
    ...(service.appProtocol === 'http2' || service.appProtocol === 'grpc' ? { http2: true } : {}),
  };
}

/** The route's request timeout: the service's, the default when unset, none for 0. */
function requestTimeoutOf(timeout: number | undefined): { timeoutMs?: number } {
  const ms = timeout ?? DEFAULT_REQUEST_TIMEOUT_MS;
  return ms > 0 ? { timeoutMs: ms } : {};
}

/** Flagger/Istio `analysis.match` entries as router A/B rules (header conditions; `cookie` is a header). */
export function abRules(app: AppSpec): AbMatchRule[] {
  return app.canary.analysis.match.map((m) => ({
    headers: Object.entries(m.headers ?? {}).map(([name, match]) => ({
      name: name.toLowerCase(),
      ...(match.exact !== undefined ? { exact: match.exact } : {}),
      ...(match.prefix !== undefined ? { prefix: match.prefix } : {}),
      ...(match.regex !== undefined ? { regex: match.regex } : {}),
      ...(match.suffix !== undefined
        ? { regex: `.*${match.suffix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}` }
        : {}),
    })),
  }));
}

/**
 * The route state of a `set-routes` action. A canary or baseline without ready endpoints gets
 * no share: its weight goes to the primary, because traffic never points at a version that
 * cannot answer.
 */
export function routeStateOf(
  app: AppSpec,
  action: Extract<RolloutAction, { kind: 'set-routes' }>,
  endpoints: RoleEndpoints,
): RouteState {
  const canaryUp = endpoints.canary.length > 0;
  const canaryWeight = canaryUp ? action.canaryWeight : 0;
  if (action.abTesting) {
    return {
      weights: { primary: 100, canary: 0 },
      ...(canaryUp && canaryWeight > 0 ? { abTesting: { version: 'canary', rules: abRules(app) } } : {}),
    };
  }
  const baselineUp = (endpoints.baseline?.length ?? 0) > 0;
  const baselineWeight = baselineUp ? (action.baselineWeight ?? 0) : 0;
  return {
    weights: {
      primary: 100 - canaryWeight - baselineWeight,
      canary: canaryWeight,
      ...(baselineWeight > 0 ? { baseline: baselineWeight } : {}),
    },
    ...(action.mirror && canaryUp
      ? { mirror: { version: 'canary', percent: action.mirrorWeight ?? 100 } }
      : {}),
  };
}
