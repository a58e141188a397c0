/**
 * "Where to query" (Flagger's metric providers): the small interface every provider kind
 * implements, and the error a query can end in with the policy each of its codes follows
 * (docs/adr/0008-metric-providers.md). The registry that maps a template's `provider.type`
 * to a factory is provider-registry.ts.
 */
import { AviaryError } from '../errors.js';

/** Where a provider lives and how to authenticate (a metric template's `provider` block). */
export interface ProviderSpec {
  readonly type: string;
  /** Base URL of the provider's HTTP API, e.g. `http://127.0.0.1:9090`. */
  readonly address: string;
  /** Headers sent with every request (e.g. `Authorization`). Security: never shown in messages. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/** Options every provider factory accepts. */
export interface ProviderOptions {
  /** Limit per HTTP request (connect, headers and body), in milliseconds. */
  readonly timeoutMs?: number | undefined;
}

/** Runs queries against one metrics backend; Flagger's `Interface` (RunQuery, IsOnline). */
export interface MetricProvider {
  readonly kind: string;
  /**
   * Runs `query` and returns its single value.
   * @throws MetricQueryError with one of {@link METRIC_QUERY_ERROR_CODES}; rejects with
   * `signal.reason` when cancelled.
   */
  runQuery(query: string, signal: AbortSignal): Promise<number>;
  /** Whether the provider answers; never throws except when cancelled. */
  isOnline(signal: AbortSignal): Promise<boolean>;
}

/**
 * What a failed query means for the analysis (docs/adr/0008-metric-providers.md):
 * - `no-data`: the metric's no-data policy applies (hold the step, or a failed check with
 *   `failOnNoData`), exactly as an empty answer from the built-in observer;
 * - `failed-check`: a failed check, counted against `threshold`.
 */
export type FailurePolicy = 'no-data' | 'failed-check';

/** Stable codes of {@link MetricQueryError} and the policy each one follows. */
export const METRIC_QUERY_ERROR_CODES = {
  /** The query matched no series (Flagger's "no values found"). */
  AVIARY_METRIC_NO_VALUES: 'no-data',
  /** The single value is NaN, typically 0/0 over an interval without traffic. */
  AVIARY_METRIC_NAN: 'no-data',
  /** The query returned several series where one number is needed. */
  AVIARY_METRIC_MULTIPLE_SERIES: 'failed-check',
  /** Connection refused, reset, DNS failure or timeout. */
  AVIARY_PROVIDER_UNREACHABLE: 'failed-check',
  /** The provider rejected the query (Prometheus: HTTP 400 `bad_data`). */
  AVIARY_METRIC_QUERY_INVALID: 'failed-check',
  /** Any other answer: an execution error (422, 503), a body that is not the API's JSON. */
  AVIARY_PROVIDER_ERROR: 'failed-check',
} as const satisfies Record<string, FailurePolicy>;

/** One of the keys of {@link METRIC_QUERY_ERROR_CODES}. */
export type MetricQueryErrorCode = keyof typeof METRIC_QUERY_ERROR_CODES;

/** Why a query produced no usable number; `code` is stable, `policy` follows from it. */
export class MetricQueryError extends AviaryError {
  declare readonly code: MetricQueryErrorCode;

  constructor(code: MetricQueryErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }

  /** How the analysis treats this failure. */
  get policy(): FailurePolicy {
    return METRIC_QUERY_ERROR_CODES[this.code];
  }
}
