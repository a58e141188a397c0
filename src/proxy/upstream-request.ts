/**
 * What one exchange forwards and how each of its tries is dispatched: the exchange's input,
 * the undici dispatch options of a try (the body to send, the idle timeouts), and the
 * back-off between tries.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { ProxyMetrics } from './stats/proxy-metrics.js';
import type { RequestBody } from './request-body.js';
import type { CompiledRoute, CompiledVersion } from './route-table.js';

/** Envoy's retry back-off: fully jittered exponential, 25 ms base. */
export function retryDelayMs(retry: number): number {
  return Math.random() * 25 * 2 ** Math.min(retry - 1, 6);
}

/** Everything the forwarder needs to know about one exchange. */
export interface ExchangeInput {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly route: CompiledRoute;
  readonly version: CompiledVersion;
  readonly method: string;
  /** Upstream path with query, after rewrites. */
  readonly path: string;
  readonly headers: Record<string, string | string[]>;
  readonly body: RequestBody;
  /** `Set-Cookie` value pinning the client to this version, when session affinity asks. */
  readonly affinityCookie: string | undefined;
  readonly startedAt: number;
  readonly metrics: ProxyMetrics;
  readonly onDone: () => void;
}

/**
 * The dispatch options of a new try of `input`. A replayable body is opened again, so each
 * try sends it from its first byte.
 */
export function dispatchOptions(input: ExchangeInput): Dispatcher.DispatchOptions {
  const { body } = input;
  const route = input.route.config;
  return {
    path: input.path,
    method: input.method,
    headers: input.headers,
    body:
      body.kind === 'none'
        ? null
        : body.kind === 'buffered'
          ? body.data
          : body.kind === 'stream'
            ? body.stream
            : body.body.open(),
    // "Idle" covers the wait for the response head too (Envoy's route idle_timeout):
    // undici's headers timer restarts while the request body is still being written.
    bodyTimeout: route.idleTimeout ?? 0,
    headersTimeout: route.idleTimeout ?? 0,
  };
}
