/**
 * Compiles a route's `match` block into one predicate over the incoming request. Header,
 * cookie and query matchers follow App Mesh's `HttpRouteHeader` semantics (exact, prefix,
 * suffix, regex, range, present, each optionally inverted).
 */
import type { IncomingMessage } from 'node:http';
import type { MatchConfig, ValueMatchConfig } from '../config/proxy-schema.js';

/** What a matcher sees of a request; cookies and query are parsed only when a route asks. */
export interface RequestView {
  readonly req: IncomingMessage;
  /** Path without the query string. */
  readonly path: string;
  /** Raw query string without `?` ('' when absent). */
  readonly query: string;
  cookies: Map<string, string> | undefined;
  queryParams: URLSearchParams | undefined;
}

/** Parses a Cookie header (RFC 6265 §4.2.1) into name → first value. */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (!cookies.has(name))
      cookies.set(
        name,
        part
          .slice(eq + 1)
          .trim()
          .replace(/^"(.*)"$/, '$1'),
      );
  }
  return cookies;
}

/** Cookies of the request, parsed once. */
export function cookiesOf(view: RequestView): Map<string, string> {
  return (view.cookies ??= parseCookies(view.req.headers.cookie));
}

/**
 * Regexes must match the whole value, as Envoy's `safe_regex` (and so App Mesh) requires:
 * `v1` does not match `v10`. Anchors already in the pattern are harmless.
 */
export function wholeMatch(source: string): RegExp {
  return new RegExp(`^(?:${source})$`);
}

type ValuePredicate = (value: string | undefined) => boolean;

function compileValue(m: ValueMatchConfig): ValuePredicate {
  let test: ValuePredicate;
  if (m.exact !== undefined) {
    const exact = m.exact;
    test = (v) => v === exact;
  } else if (m.prefix !== undefined) {
    const prefix = m.prefix;
    test = (v) => v !== undefined && v.startsWith(prefix);
  } else if (m.suffix !== undefined) {
    const suffix = m.suffix;
    test = (v) => v !== undefined && v.endsWith(suffix);
  } else if (m.regex !== undefined) {
    const regex = wholeMatch(m.regex);
    test = (v) => v !== undefined && regex.test(v);
  } else if (m.range !== undefined) {
    const { start, end } = m.range;
    test = (v) => {
      if (v === undefined || !/^-?\d+$/.test(v)) return false;
      const n = Number(v);
      return n >= start && n < end;
    };
  } else if (m.present === false) {
    test = (v) => v === undefined;
  } else {
    test = (v) => v !== undefined;
  }
  return m.invert ? (v) => !test(v) : test;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(',') : value;
}

/** Compiles a whole match block; an empty block matches everything. */
export function compileMatch(match: MatchConfig): (view: RequestView) => boolean {
  const checks: ((view: RequestView) => boolean)[] = [];
  const path = match.path;
  if (path?.exact !== undefined) {
    const exact = path.exact;
    checks.push((v) => v.path === exact);
  } else if (path?.prefix !== undefined && path.prefix !== '/') {
    const prefix = path.prefix;
    checks.push((v) => v.path.startsWith(prefix));
  } else if (path?.regex !== undefined) {
    const regex = wholeMatch(path.regex);
    checks.push((v) => regex.test(v.path));
  }
  if (match.methods) {
    const methods = new Set(match.methods);
    checks.push((v) => methods.has(v.req.method ?? ''));
  }
  for (const h of match.headers ?? []) {
    const name = h.name.toLowerCase();
    const test = compileValue(h);
    checks.push((v) => test(headerValue(v.req, name)));
  }
  for (const c of match.cookies ?? []) {
    const test = compileValue(c);
    checks.push((v) => test(cookiesOf(v).get(c.name)));
  }
  for (const q of match.query ?? []) {
    const test = compileValue(q);
    checks.push((v) => test((v.queryParams ??= new URLSearchParams(v.query)).get(q.name) ?? undefined));
  }
  if (checks.length === 0) return () => true;
  if (checks.length === 1) return checks[0]!;
  return (view) => {
    for (const check of checks) if (!check(view)) return false;
    return true;
  };
}
