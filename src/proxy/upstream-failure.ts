/**
 * How an upstream failure is named and answered: the error that cancels a try, the
 * classification of undici and socket errors as connect failures, timeouts or resets, and
 * the status and text the client gets for each kind of failure (a gRPC status for gRPC calls).
 */
import type { ServerResponse } from 'node:http';
import { GRPC_STATUS, statusTrailers } from './grpc.js';
import type { ErrorKind } from './stats/rolling-window.js';
import type { UpstreamFailureKind } from './retry-policy.js';

/** Error used to cancel a try; its kind says why. */
export class TryCancelled extends Error {
  constructor(readonly kind: UpstreamFailureKind | 'client-gone' | 'superseded') {
    super(`upstream try cancelled: ${kind}`);
  }
}

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** Classifies an upstream error as a connect failure, a timeout or a reset. */
export function classifyUpstreamError(err: unknown): UpstreamFailureKind {
  if (
    err instanceof TryCancelled &&
    (err.kind === 'connect' || err.kind === 'timeout' || err.kind === 'reset')
  ) {
    return err.kind;
  }
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (CONNECT_CODES.has(code)) return 'connect';
    if (TIMEOUT_CODES.has(code)) return 'timeout';
  }
  return 'reset';
}

/** Status answered to the client for each kind of failure. */
export const FAILURE_STATUS: Record<ErrorKind, number> = {
  connect: 503,
  reset: 502,
  timeout: 504,
  'no-endpoint': 503,
};

/** Start of the plain-text error body answered for each kind of failure. */
export const FAILURE_TEXT: Record<ErrorKind, string> = {
  connect: 'upstream connect error',
  reset: 'upstream connection reset before response',
  timeout: 'upstream request timeout',
  'no-endpoint': 'no healthy upstream',
};

/** The gRPC status the proxy answers a gRPC call with when the exchange fails this way. */
const FAILURE_GRPC_STATUS: Record<ErrorKind, number> = {
  connect: GRPC_STATUS.UNAVAILABLE,
  reset: GRPC_STATUS.UNAVAILABLE,
  timeout: GRPC_STATUS.DEADLINE_EXCEEDED,
  'no-endpoint': GRPC_STATUS.UNAVAILABLE,
};

/**
 * Answers a failed exchange whose head has not been sent: a short plain-text body naming
 * what failed, or for a gRPC call an empty answer whose trailers carry the matching gRPC status.
 * Returns the status to record (for a gRPC call, the gRPC status).
 */
export function answerFailure(
  res: ServerResponse,
  kind: ErrorKind,
  text: string,
  grpc: boolean,
): { status: number; grpcStatus: number | undefined } {
  if (grpc) {
    const code = FAILURE_GRPC_STATUS[kind];
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(200, { 'content-type': 'application/grpc' });
      res.addTrailers(statusTrailers(code, `${FAILURE_TEXT[kind]} ${text}`));
      res.end();
    }
    return { status: 200, grpcStatus: code };
  }
  const status = FAILURE_STATUS[kind];
  if (!res.headersSent && !res.destroyed) {
    const body = `${FAILURE_TEXT[kind]} ${text}\n`;
    res.writeHead(status, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  }
  return { status, grpcStatus: undefined };
}
