/**
 * What one load run measured, and the small interface every load generator implements
 * (wrk, or the undici fallback), with an explicit registry of the known kinds.
 */
import type { Placement } from './child-processes.js';

/** Outcome of one measured run. */
export interface LoadResult {
  /** Responses completed during the measured window. */
  readonly requests: number;
  readonly durationSeconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Responses with a status outside 2xx/3xx. */
  readonly non2xx3xx: number;
  /** Socket-level failures (connect, read, write, timeout). */
  readonly socketErrors: { connect: number; read: number; write: number; timeout: number };
}

/** Total errors of a run: any of them marks the run as invalid. */
export function errorCount(result: LoadResult): number {
  const s = result.socketErrors;
  return result.non2xx3xx + s.connect + s.read + s.write + s.timeout;
}

/** What to load and how. */
export interface LoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly durationSeconds: number;
  /** Where the generator runs. */
  readonly placement: Placement;
}

/** A closed-loop HTTP/1.1 keep-alive load generator. */
export interface LoadGenerator {
  readonly kind: 'wrk' | 'undici';
  /** Loads `url` for `durationSeconds`, then reports; the caller runs warm-ups as separate runs. */
  run(options: LoadOptions, signal: AbortSignal): Promise<LoadResult>;
}

/**
 * What a Node load generator measured: `latencies` (ms, one per answered request) over
 * `elapsedS` seconds, as a {@link LoadResult} with nearest-rank p50 and p99.
 */
export function loadResultOf(
  latencies: readonly number[],
  elapsedS: number,
  non2xx3xx: number,
  readErrors: number,
): LoadResult {
  const sorted = Float64Array.from(latencies).sort();
  const percentile = (q: number): number =>
    sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0);
  return {
    requests: sorted.length,
    durationSeconds: elapsedS,
    rps: sorted.length / elapsedS,
    p50Ms: percentile(0.5),
    p99Ms: percentile(0.99),
    non2xx3xx,
    socketErrors: { connect: 0, read: readErrors, write: 0, timeout: 0 },
  };
}
