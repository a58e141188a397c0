/**
 * Which upstream outcomes are retried. Names follow AWS App Mesh's `httpRetryEvents`,
 * `tcpRetryEvents` and `grpcRetryEvents` (the mesh of the canary setups Aviary was modelled on) and Envoy's
 * `retry_on`, which App Mesh exposes:
 * https://docs.aws.amazon.com/app-mesh/latest/userguide/routes.html and
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/router_filter#x-envoy-retry-on
 * The names accepted are `RETRY_EVENT_NAMES` in config/field-schemas.ts, beside the schema
 * that validates `retryOn`.
 */
import { GRPC_STATUS } from './grpc.js';

/** How an upstream try failed before any response arrived. */
export type UpstreamFailureKind = 'connect' | 'reset' | 'timeout';

/** A compiled `retryOn` list: cheap predicates for the hot path. */
export interface RetryPolicy {
  /** True when a response with this status should be retried. */
  retriesStatus(status: number): boolean;
  /** True when a try that failed this way should be retried. */
  retriesFailure(kind: UpstreamFailureKind): boolean;
  /** True when a gRPC call that ended with this `grpc-status` should be retried. */
  retriesGrpc(code: number): boolean;
  /** True when some gRPC status is retried (the forwarder then holds a gRPC answer's head until its status is known). */
  readonly grpc: boolean;
}

/** App Mesh `grpcRetryEvents` and the gRPC status each one names. */
const GRPC_EVENTS: Readonly<Record<string, number>> = {
  cancelled: GRPC_STATUS.CANCELLED,
  'deadline-exceeded': GRPC_STATUS.DEADLINE_EXCEEDED,
  internal: GRPC_STATUS.INTERNAL,
  'resource-exhausted': GRPC_STATUS.RESOURCE_EXHAUSTED,
  unavailable: GRPC_STATUS.UNAVAILABLE,
};

const SERVER_ERROR_CODES = [500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511];

/** Compiles validated `retryOn` event names into a {@link RetryPolicy}. */
export function compileRetryPolicy(events: readonly string[]): RetryPolicy {
  const statuses = new Set<number>();
  const failures = new Set<UpstreamFailureKind>();
  const grpcCodes = new Set<number>();
  for (const event of events) {
    const grpcCode = GRPC_EVENTS[event];
    if (grpcCode !== undefined) {
      grpcCodes.add(grpcCode);
      continue;
    }
    switch (event) {
      case 'server-error':
        SERVER_ERROR_CODES.forEach((c) => statuses.add(c));
        break;
      // Envoy answers a refused connection or reset with 503 and an expired try with 504,
      // so retrying 502/503/504 also retries those local failures.
      case 'gateway-error':
        [502, 503, 504].forEach((c) => statuses.add(c));
        failures.add('connect');
        failures.add('reset');
        failures.add('timeout');
        break;
      case 'client-error':
      case 'retriable-4xx':
        statuses.add(409);
        break;
      case '5xx':
        for (let c = 500; c <= 599; c++) statuses.add(c);
        failures.add('connect');
        failures.add('reset');
        failures.add('timeout');
        break;
      // HTTP/1.1 has no REFUSED_STREAM; the nearest event is a connection closed before any
      // response byte, which is what a refusing upstream produces.
      case 'stream-error':
      case 'refused-stream':
      case 'reset':
        failures.add('reset');
        break;
      case 'connection-error':
      case 'connect-failure':
        failures.add('connect');
        break;
      case 'per-try-timeout':
        failures.add('timeout');
        break;
      default: {
        const klass = /^([1-5])xx$/.exec(event);
        if (klass) {
          const base = Number(klass[1]) * 100;
          for (let c = base; c < base + 100; c++) statuses.add(c);
        } else if (/^[1-5]\d\d$/.test(event)) {
          statuses.add(Number(event));
        }
      }
    }
  }
  return {
    retriesStatus: (status) => statuses.has(status),
    retriesFailure: (kind) => failures.has(kind),
    retriesGrpc: (code) => grpcCodes.has(code),
    grpc: grpcCodes.size > 0,
  };
}
