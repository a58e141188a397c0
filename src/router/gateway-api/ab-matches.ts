/**
 * A/B match rules (Flagger `analysis.match[]`, Aviary's {@link AbMatchRule}) as Gateway API
 * header matches, and back. Gateway API matches headers `Exact` or by `RegularExpression`
 * only (https://gateway-api.sigs.k8s.io/reference/spec/#httpheadermatch) and has no cookie
 * match, so, as Flagger does:
 * - a header `prefix` becomes the regex `^<escaped prefix>.*`, `present` becomes `.*`;
 * - a cookie becomes a regex on the `Cookie` header that finds `name=value` among the
 *   `; `-separated pairs (RFC 6265 §4.2.1).
 *
 * The regexes are written to mean the same whether the data plane matches the whole value
 * (Envoy's `safe_regex`, as Aviary's own proxy does) or searches it. Reading back recognises
 * exactly the forms written here, so a rule reads back as it was set; a user's regex that
 * happens to have one of these forms (`.*`, `^abc.*`) reads back as its equivalent.
 */
import { AviaryError } from '../../errors.js';
import type { AbMatchRule } from '../traffic-router.js';

/** One `HTTPHeaderMatch` (https://gateway-api.sigs.k8s.io/reference/spec/#httpheadermatch). */
export interface HeaderMatch {
  readonly name: string;
  readonly type: 'Exact' | 'RegularExpression';
  readonly value: string;
}

type ValueMatch = NonNullable<AbMatchRule['headers']>[number];

const COOKIE_HEADER = 'Cookie';
const ANY = '.*';
/** Before the pair: the start of the header, or anything up to a `;` and its spaces. */
const COOKIE_BEFORE = '^(.*;\\s*)?';
/** After the pair: the end of the header, or a `;` and anything. */
const COOKIE_AFTER = '(;.*)?$';
const COOKIE_VALUE_REST = '[^;]*';

/** `text` with every RE2/ECMAScript metacharacter escaped, so it matches itself only. */
export function escapeRegex(text: string): string {
  return text.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

/** The literal `pattern` stands for, when it is exactly `escapeRegex(literal)`. */
function literalOf(pattern: string): string | undefined {
  const literal = pattern.replace(/\\(.)/gs, '$1');
  return escapeRegex(literal) === pattern ? literal : undefined;
}

function configError(app: string, path: string, message: string): AviaryError {
  return new AviaryError(
    'AVIARY_ROUTER_CONFIG',
    `router "gateway-api", app ${app}: abTesting.${path}: ${message}`,
  );
}

function headerMatchOf(app: string, path: string, match: ValueMatch): HeaderMatch {
  const name = match.name;
  if (match.exact !== undefined) return { name, type: 'Exact', value: match.exact };
  if (match.prefix !== undefined)
    return { name, type: 'RegularExpression', value: `^${escapeRegex(match.prefix)}${ANY}` };
  if (match.regex !== undefined) return { name, type: 'RegularExpression', value: match.regex };
  if (match.present === false)
    throw configError(
      app,
      path,
      `header ${name} must be absent, but Gateway API cannot match a missing header; match on a value instead`,
    );
  return { name, type: 'RegularExpression', value: ANY };
}

function cookieMatchOf(app: string, path: string, match: ValueMatch): HeaderMatch {
  if (
    match.present === false &&
    match.exact === undefined &&
    match.prefix === undefined &&
    match.regex === undefined
  )
    throw configError(
      app,
      path,
      `cookie ${match.name} must be absent, but Gateway API cannot match a missing cookie; match on a value instead`,
    );
  const value =
    match.exact !== undefined
      ? escapeRegex(match.exact)
      : match.prefix !== undefined
        ? `${escapeRegex(match.prefix)}${COOKIE_VALUE_REST}`
        : match.regex !== undefined
          ? `(?:${match.regex})`
          : COOKIE_VALUE_REST;
  return {
    name: COOKIE_HEADER,
    type: 'RegularExpression',
    value: `${COOKIE_BEFORE}${escapeRegex(match.name)}=${value}${COOKIE_AFTER}`,
  };
}

/**
 * The header matches of one A/B rule (`abTesting.rules[index]`). Refuses, with
 * `AVIARY_ROUTER_CONFIG`, what Gateway API cannot say without widening the rule (which would
 * send users to the canary who should not go there): an absent header or cookie, more than one
 * cookie (all would be `Cookie` header matches, and a match lists each header once), a cookie
 * besides a `Cookie` header match, and the same header twice (names are case-insensitive).
 */
export function headerMatchesOf(app: string, rule: AbMatchRule, index: number): HeaderMatch[] {
  const matches = (rule.headers ?? []).map((h, i) => headerMatchOf(app, `rules[${index}].headers[${i}]`, h));
  const cookies = rule.cookies ?? [];
  if (cookies.length > 1)
    throw configError(
      app,
      `rules[${index}].cookies`,
      `${cookies.length} cookies, but Gateway API matches them through the one Cookie header; use one cookie per rule (rules are ORed)`,
    );
  if (cookies[0] !== undefined) matches.push(cookieMatchOf(app, `rules[${index}].cookies[0]`, cookies[0]));
  const seen = new Set<string>();
  for (const match of matches) {
    const key = match.name.toLowerCase();
    if (seen.has(key))
      throw configError(
        app,
        `rules[${index}]`,
        `header ${match.name} is matched twice (a cookie is a Cookie header match); Gateway API considers only the first`,
      );
    seen.add(key);
  }
  return matches;
}

function cookieOf(pattern: string): ValueMatch | undefined {
  if (!pattern.startsWith(COOKIE_BEFORE) || !pattern.endsWith(COOKIE_AFTER)) return undefined;
  const pair = pattern.slice(COOKIE_BEFORE.length, pattern.length - COOKIE_AFTER.length);
  // Cookie names are RFC 7230 tokens: no `=` in them, so the first unescaped `=` ends the name.
  const equals = pair.indexOf('=');
  if (equals === -1) return undefined;
  const name = literalOf(pair.slice(0, equals));
  const value = pair.slice(equals + 1);
  if (name === undefined) return undefined;
  if (value === COOKIE_VALUE_REST) return { name, present: true };
  if (value.startsWith('(?:') && value.endsWith(')')) return { name, regex: value.slice(3, -1) };
  if (value.endsWith(COOKIE_VALUE_REST)) {
    const prefix = literalOf(value.slice(0, -COOKIE_VALUE_REST.length));
    return prefix === undefined ? undefined : { name, prefix };
  }
  const exact = literalOf(value);
  return exact === undefined ? undefined : { name, exact };
}

function headerOf(match: HeaderMatch): ValueMatch {
  if (match.type === 'Exact') return { name: match.name, exact: match.value };
  if (match.value === ANY) return { name: match.name, present: true };
  if (match.value.startsWith('^') && match.value.endsWith(ANY)) {
    const prefix = literalOf(match.value.slice(1, -ANY.length));
    if (prefix !== undefined) return { name: match.name, prefix };
  }
  return { name: match.name, regex: match.value };
}

/** The A/B rule that header matches written by {@link headerMatchesOf} came from. */
export function abRuleOf(matches: readonly HeaderMatch[]): AbMatchRule {
  const headers: ValueMatch[] = [];
  const cookies: ValueMatch[] = [];
  for (const match of matches) {
    const cookie =
      match.name.toLowerCase() === COOKIE_HEADER.toLowerCase() && match.type === 'RegularExpression'
        ? cookieOf(match.value)
        : undefined;
    if (cookie) cookies.push(cookie);
    else headers.push(headerOf(match));
  }
  return {
    ...(headers.length > 0 ? { headers } : {}),
    ...(cookies.length > 0 ? { cookies } : {}),
  };
}
