/**
 * Compiles a validated configuration into the immutable routing table the request path
 * reads: per listener, hosts → services → ordered routes with compiled matchers, weight
 * pickers and endpoint sets. A new table is built beside the old one and swapped in by one
 * assignment, so a request always sees one whole generation.
 */
import type { HeaderOpsConfig, ProxyConfig, RouteConfig, ServiceConfig } from '../config/proxy-schema.js';
import type { EndpointStats, MirrorStats } from './stats/endpoint-stats.js';
import type { ProxyMetrics } from './stats/proxy-metrics.js';
import type { RollingWindow } from './stats/rolling-window.js';
import { Endpoint, EndpointSet } from './endpoint-set.js';
import { compileMatch, type RequestView } from './request-matcher.js';
import { compileRetryPolicy, type RetryPolicy } from './retry-policy.js';
import type { UpstreamPools } from './upstream-pools.js';

/** A version as a route sees it: its endpoints and where its metrics go. */
export interface CompiledVersion {
  readonly name: string;
  readonly endpoints: EndpointSet;
  readonly window: RollingWindow;
  /** Metrics series of this version in this route, by endpoint address ('none' when unpicked). */
  readonly stats: ReadonlyMap<string, EndpointStats>;
}

/** A weighted target of a route. */
export interface CompiledTarget {
  readonly version: CompiledVersion;
  readonly weight: number;
  /** Running sum of weights up to and including this target. */
  readonly cumulative: number;
}

/** Header set/add/remove operations in lower-case. */
export interface CompiledHeaderOps {
  readonly set: readonly (readonly [string, string])[];
  readonly add: readonly (readonly [string, string])[];
  readonly remove: readonly string[];
}

/** A route ready for the request path. */
export interface CompiledRoute {
  readonly service: string;
  readonly name: string;
  readonly config: RouteConfig;
  readonly matches: (view: RequestView) => boolean;
  readonly targets: readonly CompiledTarget[];
  readonly totalWeight: number;
  readonly retry: RetryPolicy | undefined;
  readonly requestHeaders: CompiledHeaderOps | undefined;
  readonly responseHeaders: CompiledHeaderOps | undefined;
  readonly mirror:
    { readonly version: CompiledVersion; readonly percent: number; readonly stats: MirrorStats } | undefined;
  /** Versions by name, for session affinity lookups. */
  readonly byVersion: ReadonlyMap<string, CompiledTarget>;
}

/** A virtual service on a listener. */
export interface CompiledService {
  readonly name: string;
  readonly routes: readonly CompiledRoute[];
}

/** Host lookup of one listener. */
export interface ListenerTable {
  readonly exact: ReadonlyMap<string, readonly CompiledService[]>;
  readonly wildcardSuffixes: readonly (readonly [string, readonly CompiledService[]])[];
  readonly any: readonly CompiledService[];
}

/** One whole generation of routing. */
export interface RouteTable {
  readonly generation: number;
  readonly config: ProxyConfig;
  readonly listeners: ReadonlyMap<string, ListenerTable>;
  /** Every endpoint set, for health reporting. */
  readonly versions: readonly { service: string; version: string; endpoints: EndpointSet }[];
}

function compileHeaderOps(ops: HeaderOpsConfig | undefined): CompiledHeaderOps | undefined {
  if (!ops) return undefined;
  const lower = (r: Record<string, string> | undefined): [string, string][] =>
    Object.entries(r ?? {}).map(([k, v]) => [k.toLowerCase(), v]);
  return { set: lower(ops.set), add: lower(ops.add), remove: (ops.remove ?? []).map((h) => h.toLowerCase()) };
}

/** Keeps endpoint objects (and their health state) alive across generations. */
export type EndpointMemory = Map<string, Endpoint>;

function compileService(
  svc: ServiceConfig,
  generation: number,
  pools: UpstreamPools,
  metrics: ProxyMetrics,
  memory: EndpointMemory,
  nextMemory: EndpointMemory,
  series: Set<object>,
): { service: CompiledService; versions: RouteTable['versions'] } {
  const used = <T extends object>(value: T): T => {
    series.add(value);
    return value;
  };
  const sets = new Map<string, EndpointSet>();
  for (const v of svc.versions) {
    const endpoints = v.endpoints.map((origin) => {
      const key = `${svc.name}\u0000${v.name}\u0000${origin}`;
      const pool = pools.acquire(origin, v, generation);
      const previous = memory.get(key);
      const endpoint =
        previous && previous.pool === pool
          ? previous
          : new Endpoint(origin, new URL(origin).host, pool, pools.tlsOptions(v));
      nextMemory.set(key, endpoint);
      return endpoint;
    });
    sets.set(v.name, new EndpointSet(endpoints, v));
  }
  const versionOf = (route: string, name: string): CompiledVersion => {
    const endpoints = sets.get(name)!;
    const stats = new Map<string, EndpointStats>();
    for (const e of endpoints.endpoints)
      stats.set(e.address, metrics.endpoint(svc.name, route, name, e.address));
    stats.set('none', metrics.endpoint(svc.name, route, name, 'none'));
    const window = metrics.window(svc.name, name);
    for (const used of [window, ...stats.values()]) series.add(used);
    return { name, endpoints, window, stats };
  };
  const ordered = svc.routes
    .map((r, index) => ({ r, index }))
    .sort((a, b) => (a.r.priority ?? 1001) - (b.r.priority ?? 1001) || a.index - b.index)
    .map(({ r }) => r);
  const routes = ordered.map((r): CompiledRoute => {
    let cumulative = 0;
    const targets = r.targets.map((t) => {
      cumulative += t.weight;
      return { version: versionOf(r.name, t.version), weight: t.weight, cumulative };
    });
    return {
      service: svc.name,
      name: r.name,
      config: r,
      matches: compileMatch(r.match),
      targets,
      totalWeight: cumulative,
      retry: r.retries && r.retries.attempts > 0 ? compileRetryPolicy(r.retries.retryOn) : undefined,
      requestHeaders: compileHeaderOps(r.requestHeaders),
      responseHeaders: compileHeaderOps(r.responseHeaders),
      mirror: r.mirror
        ? {
            version: versionOf(r.name, r.mirror.version),
            percent: r.mirror.percent,
            stats: used(metrics.mirror(svc.name, r.name, r.mirror.version)),
          }
        : undefined,
      byVersion: new Map(targets.map((t) => [t.version.name, t])),
    };
  });
  return {
    service: { name: svc.name, routes },
    versions: [...sets].map(([version, endpoints]) => ({ service: svc.name, version, endpoints })),
  };
}

/**
 * Builds a routing table; reuses pools and endpoint health from earlier generations. `series`
 * is every metrics object the table records into, for {@link ProxyMetrics.retainOnly}.
 */
export function compileRouteTable(
  config: ProxyConfig,
  generation: number,
  pools: UpstreamPools,
  metrics: ProxyMetrics,
  memory: EndpointMemory,
): { table: RouteTable; memory: EndpointMemory; series: ReadonlySet<object> } {
  const nextMemory: EndpointMemory = new Map();
  const series = new Set<object>();
  const compiled = config.services.map((svc) => ({
    svc,
    ...compileService(svc, generation, pools, metrics, memory, nextMemory, series),
  }));
  const listeners = new Map<string, ListenerTable>();
  for (const listener of config.listeners) {
    const exact = new Map<string, CompiledService[]>();
    const wildcards = new Map<string, CompiledService[]>();
    const any: CompiledService[] = [];
    const add = (map: Map<string, CompiledService[]>, key: string, service: CompiledService): void => {
      const list = map.get(key) ?? [];
      list.push(service);
      map.set(key, list);
    };
    for (const { svc, service } of compiled) {
      if (svc.listeners && !svc.listeners.includes(listener.name)) continue;
      for (const host of svc.hosts) {
        const h = host.toLowerCase();
        if (h === '*') any.push(service);
        else if (h.startsWith('*.')) add(wildcards, h.slice(1), service);
        else add(exact, h, service);
      }
    }
    const bySpecificity = (list: CompiledService[]): CompiledService[] =>
      list.sort((a, b) => specificity(b) - specificity(a));
    exact.forEach(bySpecificity);
    wildcards.forEach(bySpecificity);
    const wildcardSuffixes = [...wildcards].sort((a, b) => b[0].length - a[0].length);
    listeners.set(listener.name, { exact, wildcardSuffixes, any: bySpecificity(any) });
  }
  return {
    table: { generation, config, listeners, versions: compiled.flatMap((c) => c.versions) },
    memory: nextMemory,
    series,
  };
}

/**
 * How specific a service's paths are: the longest literal path of its routes. Services that
 * share a host are tried most specific first, so an app on `/catalogDetail` is reached even
 * when another app on the same host serves `/`.
 */
function specificity(service: CompiledService): number {
  let longest = 0;
  for (const route of service.routes) {
    const path = route.config.match.path;
    longest = Math.max(longest, path?.exact?.length ?? path?.prefix?.length ?? 0);
  }
  return longest;
}

const NONE: readonly CompiledService[] = [];

/** The services that may answer `host` (Host header, any port stripped), to be tried in order. */
export function servicesForHost(
  table: ListenerTable,
  hostHeader: string | undefined,
): readonly CompiledService[] {
  if (table.exact.size === 0 && table.wildcardSuffixes.length === 0) return table.any;
  let host = (hostHeader ?? '').toLowerCase();
  const colon = host.lastIndexOf(':');
  if (colon > 0 && !host.endsWith(']')) host = host.slice(0, colon);
  const exact = table.exact.get(host);
  if (exact) return exact;
  for (const [suffix, services] of table.wildcardSuffixes) if (host.endsWith(suffix)) return services;
  return table.any.length > 0 ? table.any : NONE;
}

/** Picks a target by weight. `random` is in [0, 1). */
export function pickTarget(route: CompiledRoute, random: number): CompiledTarget {
  const point = random * route.totalWeight;
  const targets = route.targets;
  for (const target of targets) if (point < target.cumulative) return target;
  // Floating-point edge: fall back to the last target that has weight.
  for (let i = targets.length - 1; i > 0; i--) if (targets[i]!.weight > 0) return targets[i]!;
  return targets[0]!;
}
