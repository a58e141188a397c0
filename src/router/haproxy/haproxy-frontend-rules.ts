/**
 * The frontend's routing rules: which backend a request goes to, rendered so that HAProxy
 * picks the app and version the built-in proxy would for the same apps and route states
 * (test/haproxy/haproxy-matching.test.ts sends the same requests to both).
 *
 * The built-in proxy (src/proxy/route-table.ts) first picks one group of apps by Host: the
 * apps naming that exact host, else those of the longest `*.` suffix it ends with, else those
 * on any host; only that group's routes are tried, most specific path first, A/B rules ahead
 * of the weighted route. So a request for a named host that no path of its apps matches is a
 * 404, as an Envoy virtual host's is, not a request for the apps on any host. Header and cookie
 * matches follow App Mesh's `HttpRouteHeader`, whose regexes match the whole value (Envoy
 * `safe_regex`), where HAProxy's `-m reg` searches. Directives: HAProxy 2.6 configuration
 * manual, sections 7 (ACLs) and 4.2 (`use_backend`), https://docs.haproxy.org/2.6/configuration.html
 */
import type { AbMatchRule } from '../traffic-router.js';
import { quote } from './haproxy-quote.js';
import type { AppPlan } from './haproxy-plan.js';

/** The backend that answers 404 `no route`. */
export const NO_ROUTE_BACKEND = 'aviary-no-route';

/** The Host header without its port, as route-table.ts's `servicesForHost` reads it (`[::1]` keeps its colons). */
const HOST = 'req.hdr(host),regsub(:[0-9]+$,)';

type ValueMatch = NonNullable<AbMatchRule['headers']>[number];

/**
 * One header or cookie match as an ACL criterion. `req.fhdr` reads a header whole: `req.hdr`
 * would split `yes, please` at its comma and match `yes`.
 */
function matchAcl(kind: 'hdr' | 'cook', m: ValueMatch): string {
  const name = kind === 'hdr' ? `req.fhdr(${m.name.toLowerCase()})` : `req.cook(${m.name})`;
  if (m.exact !== undefined) return `${name} -m str ${quote(m.exact)}`;
  if (m.prefix !== undefined) return `${name} -m beg ${quote(m.prefix)}`;
  if (m.regex !== undefined) return `${name} -m reg ${quote(`^(?:${m.regex})$`)}`;
  return `${kind === 'hdr' ? `req.fhdr_cnt(${m.name.toLowerCase()})` : `req.cook_cnt(${m.name})`} gt 0`;
}

/** ACL definitions of one app (path prefix, A/B matches) and the conditions of its rules. */
interface AppRules {
  readonly acls: string[];
  /** Conditions after the host's: one per A/B rule with its backend, then the weighted backend. */
  readonly uses: { readonly backend: string; readonly conditions: string[] }[];
}

function appRules(plan: AppPlan, index: number): AppRules {
  const { spec } = plan;
  const acl = `app${index}`;
  const acls: string[] = [];
  const path: string[] = [];
  const prefix = spec.pathPrefix ?? '/';
  if (prefix !== '/') {
    acls.push(`  acl ${acl}_path path_beg ${quote(prefix)}`);
    path.push(`${acl}_path`);
  }
  const uses: AppRules['uses'] = [];
  plan.ab?.rules.forEach((rule, r) => {
    const parts = [
      ...(rule.headers ?? []).map((m) => ({ m, kind: 'hdr' as const })),
      ...(rule.cookies ?? []).map((m) => ({ m, kind: 'cook' as const })),
    ];
    const names = parts.map(({ m, kind }, p) => {
      acls.push(`  acl ${acl}_ab${r}_${p} ${matchAcl(kind, m)}`);
      return `${m.present === false ? '!' : ''}${acl}_ab${r}_${p}`;
    });
    uses.push({ backend: plan.ab!.backend.name, conditions: [...path, ...names] });
  });
  uses.push({ backend: plan.main.name, conditions: path });
  return { acls, uses };
}

/** An exact host, a `*.` suffix, or any host; with the apps it holds. */
interface HostGroup {
  readonly match?: string;
  readonly plans: AppPlan[];
}

/** Groups in lookup order, each group's apps most specific (longest path prefix) first. */
function hostGroups(plans: readonly AppPlan[]): HostGroup[] {
  const exact = new Map<string, AppPlan[]>();
  const suffixes = new Map<string, AppPlan[]>();
  const any: AppPlan[] = [];
  const add = (map: Map<string, AppPlan[]>, key: string, plan: AppPlan) =>
    map.set(key, [...(map.get(key) ?? []), plan]);
  for (const plan of plans) {
    const hosts = plan.spec.hosts && plan.spec.hosts.length > 0 ? plan.spec.hosts : ['*'];
    for (const host of new Set(hosts.map((h) => h.toLowerCase()))) {
      if (host === '*') any.push(plan);
      else if (host.startsWith('*.')) add(suffixes, host.slice(1), plan);
      else add(exact, host, plan);
    }
  }
  const specificFirst = (group: AppPlan[]) =>
    [...group].sort((a, b) => (b.spec.pathPrefix ?? '/').length - (a.spec.pathPrefix ?? '/').length);
  return [
    ...[...exact].map(([host, group]) => ({ match: `-i ${quote(host)}`, plans: specificFirst(group) })),
    ...[...suffixes]
      .sort((a, b) => b[0].length - a[0].length)
      .map(([suffix, group]) => ({ match: `-i -m end ${quote(suffix)}`, plans: specificFirst(group) })),
    { plans: specificFirst(any) },
  ];
}

/** The frontend's ACLs and `use_backend` lines for all apps; unmatched requests fall to {@link NO_ROUTE_BACKEND}. */
export function frontendRoutingLines(plans: readonly AppPlan[]): string[] {
  const rules = new Map(plans.map((plan, i) => [plan, appRules(plan, i)]));
  const lines = [...rules.values()].flatMap((r) => r.acls);
  hostGroups(plans).forEach((group, g) => {
    const host = group.match === undefined ? [] : [`host${g}`];
    if (group.match !== undefined) lines.push(`  acl host${g} ${HOST} ${group.match}`);
    for (const plan of group.plans)
      for (const use of rules.get(plan)!.uses) {
        const conditions = [...host, ...use.conditions];
        lines.push(
          `  use_backend ${use.backend}${conditions.length > 0 ? ` if ${conditions.join(' ')}` : ''}`,
        );
      }
    // A named host's requests stay in its group: what none of its apps matches is a 404.
    if (group.match !== undefined && group.plans.length > 0)
      lines.push(`  use_backend ${NO_ROUTE_BACKEND} if host${g}`);
  });
  return lines;
}
