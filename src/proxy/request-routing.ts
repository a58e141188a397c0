/**
 * Decides where one request goes: the virtual service (listener + Host), the first matching
 * route by priority, the version (session-affinity cookie, else weighted choice) and the
 * upstream path after the route's prefix rewrite.
 */
import type { IncomingMessage } from 'node:http';
import { cookiesOf, type RequestView } from './request-matcher.js';
import {
  pickTarget,
  servicesForHost,
  type CompiledRoute,
  type CompiledTarget,
  type RouteTable,
} from './route-table.js';

/** Where a request is sent. */
export interface RoutingDecision {
  readonly route: CompiledRoute;
  readonly target: CompiledTarget;
  /** Upstream path and query. */
  readonly path: string;
  /** `Set-Cookie` value to pin a new client to its version, when the route has session affinity. */
  readonly affinityCookie: string | undefined;
}

/** Why no decision could be made. */
export interface NoRoute {
  readonly reason: string;
}

function rewritePath(route: CompiledRoute, path: string): string {
  const rewrite = route.config.rewrite;
  if (!rewrite) return path;
  const matched = route.config.match.path?.prefix ?? '/';
  const rest = path.slice(matched.length);
  // Avoid the classic "//" when both the replacement ends and the remainder starts with "/".
  if (rewrite.prefix.endsWith('/') && rest.startsWith('/')) return rewrite.prefix + rest.slice(1);
  if (!rewrite.prefix.endsWith('/') && rest !== '' && !rest.startsWith('/'))
    return `${rewrite.prefix}/${rest}`;
  return rewrite.prefix + rest;
}

/**
 * Picks the version: a client whose affinity cookie names a version still routed with weight
 * > 0 keeps it (Flagger's `sessionAffinity`); others follow the weights and get the cookie.
 */
function chooseTarget(
  route: CompiledRoute,
  view: RequestView,
): { target: CompiledTarget; cookie: string | undefined } {
  const affinity = route.config.sessionAffinity;
  if (!affinity) return { target: pickTarget(route, Math.random()), cookie: undefined };
  const pinned = cookiesOf(view).get(affinity.cookieName);
  const kept = pinned === undefined ? undefined : route.byVersion.get(pinned);
  if (kept && kept.weight > 0) return { target: kept, cookie: undefined };
  const target = pickTarget(route, Math.random());
  return {
    target,
    cookie: `${affinity.cookieName}=${target.version.name}; Max-Age=${affinity.maxAge}; Path=/; HttpOnly; SameSite=Lax`,
  };
}

/**
 * The origin-form target (path and query) and the authority to route on. RFC 9112 §3.2.2:
 * an absolute-form target's authority takes precedence over the Host field. Other forms
 * (asterisk-form `*`, authority-form) name no path to route, so they are not forwarded.
 */
function originForm(req: IncomingMessage): { url: string; host: string | undefined } | undefined {
  const target = req.url ?? '/';
  // HTTP/2 carries the authority in `:authority` (RFC 9113 §8.3.1), HTTP/1.1 in Host.
  if (target.startsWith('/')) return { url: target, host: req.headers.host ?? authorityOf(req) };
  if (!/^https?:\/\//i.test(target)) return undefined;
  try {
    const url = new URL(target);
    return { url: url.pathname + url.search, host: url.host };
  } catch {
    return undefined;
  }
}

function authorityOf(req: IncomingMessage): string | undefined {
  const authority = req.headers[':authority'];
  return typeof authority === 'string' ? authority : undefined;
}

/** Routes one request through a table, or says why it cannot be routed. */
export function routeRequest(
  table: RouteTable,
  listener: string,
  req: IncomingMessage,
): RoutingDecision | NoRoute {
  const hosts = table.listeners.get(listener);
  if (!hosts) return { reason: `listener "${listener}" is being removed` };
  const target = originForm(req);
  if (!target) return { reason: `request target ${JSON.stringify(req.url ?? '')} is not a path` };
  const services = servicesForHost(hosts, target.host);
  if (services.length === 0) return { reason: `no service for host "${target.host ?? ''}"` };
  const url = target.url;
  const q = url.indexOf('?');
  const view: RequestView = {
    req,
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? '' : url.slice(q + 1),
    cookies: undefined,
    queryParams: undefined,
  };
  for (const service of services) {
    for (const route of service.routes) {
      if (!route.matches(view)) continue;
      const { target, cookie } = chooseTarget(route, view);
      const path = rewritePath(route, view.path);
      return { route, target, path: q === -1 ? path : `${path}?${view.query}`, affinityCookie: cookie };
    }
  }
  const names = services.map((s) => `"${s.name}"`).join(', ');
  return { reason: `no route of service ${names} matches ${req.method ?? ''} ${view.path}` };
}
