/**
 * Header handling of a forwarding proxy: hop-by-hop removal (RFC 9110 §7.6.1), the
 * X-Forwarded-* family, request ids and the route's set/add/remove operations.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { CompiledHeaderOps } from './route-table.js';

/**
 * Connection-specific fields a proxy must not forward (RFC 9110 §7.6.1), plus `expect`,
 * which the router answers itself, and `proxy-*` fields meant for this hop.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
  'expect',
  'http2-settings',
]);

/**
 * Copies headers without hop-by-hop fields, including those the Connection field names, and
 * without HTTP/2 pseudo-header fields (`:path`, `:authority`…, RFC 9113 §8.3), which the
 * upstream request carries in its own form.
 */
export function withoutHopByHop(
  headers: IncomingHttpHeaders,
  keepUpgrade = false,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const connection = headers.connection;
  const named =
    connection === undefined
      ? undefined
      : new Set(
          (Array.isArray(connection) ? connection.join(',') : connection)
            .split(',')
            .map((t) => t.trim().toLowerCase())
            .filter((t) => t !== ''),
        );
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || name.startsWith(':')) continue;
    if (HOP_BY_HOP.has(name) && !(keepUpgrade && (name === 'upgrade' || name === 'connection'))) continue;
    if (named?.has(name) && !(keepUpgrade && name === 'upgrade')) continue;
    out[name] = value;
  }
  return out;
}

/** Adds X-Forwarded-For/-Proto/-Host and an x-request-id when the client sent none. */
export function addForwardingHeaders(
  headers: Record<string, string | string[]>,
  clientAddress: string | undefined,
  proto: string,
): void {
  const client = clientAddress?.startsWith('::ffff:') ? clientAddress.slice(7) : (clientAddress ?? 'unknown');
  const previous = headers['x-forwarded-for'];
  headers['x-forwarded-for'] =
    previous === undefined
      ? client
      : `${Array.isArray(previous) ? previous.join(', ') : previous}, ${client}`;
  if (headers['x-forwarded-proto'] === undefined) headers['x-forwarded-proto'] = proto;
  if (headers['x-forwarded-host'] === undefined && headers.host !== undefined) {
    headers['x-forwarded-host'] = headers.host;
  }
  if (headers['x-request-id'] === undefined) headers['x-request-id'] = randomUUID();
}

/** Applies a route's header operations in the order remove, set, add. */
export function applyHeaderOps(
  headers: Record<string, string | string[]> | OutgoingHttpHeaders,
  ops: CompiledHeaderOps,
): void {
  for (const name of ops.remove) delete headers[name];
  for (const [name, value] of ops.set) headers[name] = value;
  for (const [name, value] of ops.add) {
    const previous = headers[name];
    if (previous === undefined) headers[name] = value;
    else if (Array.isArray(previous)) headers[name] = [...previous, value];
    else headers[name] = [String(previous), value];
  }
}

/**
 * The head forwarded to the client: the upstream headers without hop-by-hop fields, the
 * route's response header changes, and the session-affinity cookie when there is one.
 */
export function responseHead(
  headers: IncomingHttpHeaders,
  ops: CompiledHeaderOps | undefined,
  affinityCookie: string | undefined,
): Record<string, string | string[]> {
  const out = withoutHopByHop(headers);
  if (ops) applyHeaderOps(out, ops);
  if (affinityCookie !== undefined) {
    const existing = out['set-cookie'];
    out['set-cookie'] = existing === undefined ? [affinityCookie] : [...[existing].flat(), affinityCookie];
  }
  return out;
}

/**
 * Trailer fields to pass on (RFC 9110 §6.5): everything but the fields a sender must not put
 * in trailers, which undici would otherwise hand over from a malformed upstream.
 */
export function forwardableTrailers(trailers: Record<string, unknown>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in trailers) {
    const value = trailers[name];
    if (name.startsWith(':') || HOP_BY_HOP.has(name) || name === 'content-length') continue;
    if (typeof value === 'string' || Array.isArray(value)) out[name] = value as string | string[];
  }
  return out;
}
