/**
 * What the proxy knows about gRPC (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md):
 * which exchanges are gRPC calls, where their status is (trailers, or the headers of a
 * trailers-only response), how a status reads as an HTTP status for the per-version
 * metrics, the `grpc-timeout` header, and the status fields the proxy writes when it ends a
 * call itself.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** gRPC status codes by name (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
export const GRPC_STATUS = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** Names of the gRPC status codes, indexed by code (the `grpc_code` metric label). */
export const GRPC_STATUS_NAMES: readonly string[] = Object.keys(GRPC_STATUS);

/**
 * The HTTP status each gRPC code stands for in the proxy's per-version counts, from the
 * mapping in google/rpc/code.proto. A gRPC call answered `200` with `grpc-status: 14` is
 * counted as a 503, so the built-in error-rate checks and the judge see it as a server error.
 */
const HTTP_EQUIVALENT: readonly number[] = [
  200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401,
];

/** True when the request is a gRPC call (`content-type: application/grpc[+proto|;…]`). */
export function isGrpcRequest(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type'];
  return typeof type === 'string' && /^application\/grpc([+;]|$)/i.test(type);
}

/** The `grpc-status` in a header or trailer block, or undefined when there is none or it is not a code. */
export function grpcStatusOf(block: Record<string, unknown> | undefined): number | undefined {
  const value = block?.['grpc-status'];
  const text: unknown = Array.isArray(value) ? (value as unknown[])[0] : value;
  if (typeof text !== 'string' || !/^\d{1,2}$/.test(text)) return undefined;
  const code = Number(text);
  return code <= 16 ? code : GRPC_STATUS.UNKNOWN;
}

/** The HTTP status a gRPC status counts as in the metrics; see {@link HTTP_EQUIVALENT}. */
export function httpEquivalent(code: number): number {
  return HTTP_EQUIVALENT[code] ?? 500;
}

const TIMEOUT_UNITS_MS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000_001,
};

/**
 * The `grpc-timeout` header in milliseconds (PROTOCOL-HTTP2.md: at most 8 digits and one of
 * the units H, M, S, m, u, n), or undefined when it is absent or malformed.
 */
export function grpcTimeoutMs(headers: IncomingHttpHeaders): number | undefined {
  const value = headers['grpc-timeout'];
  if (typeof value !== 'string') return undefined;
  const match = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (!match) return undefined;
  return Number(match[1]) * TIMEOUT_UNITS_MS[match[2]!]!;
}

/** Fields that carry a gRPC call's status: in the trailers, or in the head of a trailers-only answer. */
const STATUS_FIELDS = ['grpc-status', 'grpc-message', 'grpc-status-details-bin'];

/** Fields of a trailers-only answer that stay in the proxy's head: HTTP's, not the call's metadata. */
const HEAD_FIELDS = new Set(['content-type', 'date', 'set-cookie']);

/**
 * Moves the trailers of a trailers-only answer out of the head the proxy will send, into
 * trailers of their own. The proxy always answers headers, then trailers: Node's
 * compatibility API cannot end a stream with its HEADERS frame, and a head followed by an
 * empty body and no trailers is a call without a status to gRPC clients. A trailers-only
 * answer is `HTTP-Status Content-Type Trailers` (gRPC PROTOCOL-HTTP2.md), so every field the
 * upstream sent in it but its content type is trailing metadata (`grpc-status` and the
 * server's own, such as an error's details); headers the route added stay in the head.
 * Without `grpc-status` in `upstream`, only stray status fields move.
 */
export function takeStatusFields(
  head: Record<string, string | string[]>,
  upstream: IncomingHttpHeaders = head,
): Record<string, string | string[]> {
  const names =
    upstream['grpc-status'] === undefined
      ? STATUS_FIELDS
      : Object.keys(upstream).filter((name) => !HEAD_FIELDS.has(name) && !name.startsWith(':'));
  const trailers: Record<string, string | string[]> = {};
  for (const name of names) {
    const value = head[name];
    if (value === undefined) continue;
    trailers[name] = value;
    delete head[name];
  }
  return trailers;
}

/** Trailers of a call the proxy ends itself with `code`; the message is percent-encoded as PROTOCOL-HTTP2.md asks. */
export function statusTrailers(code: number, message: string): Record<string, string> {
  return { 'grpc-status': String(code), 'grpc-message': encodeURIComponent(message) };
}
