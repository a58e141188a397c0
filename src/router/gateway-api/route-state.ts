/**
 * Reads an app's route state back from its HTTPRoute, as a gateway would route: the last
 * rule is the default rule (its weights and mirror), the rules before it are A/B rules to one
 * version (Flagger's layout, written by `renderHttpRoute`). Services are mapped back to the
 * app's versions through its spec; a backend that is none of them is not a version of the app
 * and is left out.
 */
import type { AppRouteSpec, RouteState, ServiceRef } from '../traffic-router.js';
import { abRuleOf } from './ab-matches.js';
import { servicesOf, type HttpRoute, type HttpRouteFilter, type ServiceBackendRef } from './http-route.js';

function versionsByService(spec: AppRouteSpec): Map<string, string> {
  const byService = new Map<string, string>();
  for (const [version, service] of servicesOf(spec)) byService.set(keyOf(service), version);
  return byService;
}

function keyOf(service: Pick<ServiceRef, 'namespace' | 'name'>): string {
  return `${service.namespace}/${service.name}`;
}

function mirrorPercent(mirror: Extract<HttpRouteFilter, { type: 'RequestMirror' }>['requestMirror']): number {
  if (mirror.percent !== undefined) return mirror.percent;
  // Neither percent nor fraction: every request is mirrored.
  if (mirror.fraction === undefined) return 100;
  return Math.round((100 * mirror.fraction.numerator) / (mirror.fraction.denominator ?? 100));
}

/**
 * The route state an HTTPRoute carries for the app `spec` describes. Every version in the
 * default rule reads back with its weight, 0 included.
 */
export function routeStateOfHttpRoute(route: HttpRoute, spec: AppRouteSpec): RouteState {
  const namespace = route.metadata?.namespace ?? '';
  const byService = versionsByService(spec);
  const versionOf = (ref: ServiceBackendRef): string | undefined =>
    (ref.kind ?? 'Service') === 'Service' && (ref.group ?? '') === ''
      ? byService.get(keyOf({ namespace: ref.namespace ?? namespace, name: ref.name }))
      : undefined;

  const rules = route.spec.rules;
  const main = rules[rules.length - 1];
  const weights: Record<string, number> = {};
  for (const ref of main?.backendRefs ?? []) {
    const version = versionOf(ref);
    // A missing weight is Gateway API's default of 1.
    if (version !== undefined) weights[version] = ref.weight ?? 1;
  }
  const mirrorFilter = main?.filters?.find((f) => f.type === 'RequestMirror');
  const mirrorVersion = mirrorFilter ? versionOf(mirrorFilter.requestMirror.backendRef) : undefined;

  let abVersion: string | undefined;
  const abRules = rules.slice(0, -1).flatMap((rule) => {
    const version = rule.backendRefs.map(versionOf).find((v) => v !== undefined);
    if (version === undefined) return [];
    abVersion ??= version;
    return rule.matches.map((match) => abRuleOf(match.headers ?? []));
  });

  return {
    weights,
    ...(mirrorFilter && mirrorVersion !== undefined
      ? { mirror: { version: mirrorVersion, percent: mirrorPercent(mirrorFilter.requestMirror) } }
      : {}),
    ...(abVersion !== undefined ? { abTesting: { version: abVersion, rules: abRules } } : {}),
  };
}

/**
 * The state to keep when an app is reconciled on a route that carried `current` (undefined:
 * no route yet): the weights of the versions the spec still has, each new version at 0, and
 * the mirror and A/B rules while their version is still there. With no weight left, all
 * traffic goes to the first version (the primary), as on a new route.
 */
export function reconciledRouteState(current: RouteState | undefined, spec: AppRouteSpec): RouteState {
  const versions = spec.versions.map((v) => v.name);
  const first = versions[0];
  const weights: Record<string, number> = {};
  for (const version of versions) weights[version] = current?.weights[version] ?? 0;
  if (first !== undefined && !Object.values(weights).some((w) => w > 0)) weights[first] = 100;
  const mirror = current?.mirror;
  const ab = current?.abTesting;
  return {
    weights,
    ...(mirror && versions.includes(mirror.version) ? { mirror } : {}),
    ...(ab && versions.includes(ab.version) ? { abTesting: ab } : {}),
  };
}
