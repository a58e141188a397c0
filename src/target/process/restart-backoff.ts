/**
 * Delay before restarting a crashed replica: exponential, capped, and reset once a run has
 * been stable for a while. This is the shape of Kubernetes' CrashLoopBackOff
 * (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#restart-policy), with
 * shorter steps because a local process starts in milliseconds, not seconds.
 */

/** Tunables of {@link RestartBackoff}. */
export interface RestartBackoffOptions {
  /** First delay. Default 200 ms. */
  readonly initialMs?: number;
  /** Cap of the doubling. Default 30 s. */
  readonly maxMs?: number;
  /** A run at least this long counts as stable and resets the delay. Default 60 s. */
  readonly resetAfterMs?: number;
}

/** The default restart backoff: 200 ms doubling to 30 s, reset after 60 s of stable running. */
export const DEFAULT_RESTART_BACKOFF: Required<RestartBackoffOptions> = {
  initialMs: 200,
  maxMs: 30_000,
  resetAfterMs: 60_000,
};

/** Backoff state of one replica. Pure: the caller measures how long the run lasted. */
export class RestartBackoff {
  readonly #options: Required<RestartBackoffOptions>;
  #failures = 0;

  constructor(options: RestartBackoffOptions = {}) {
    this.#options = { ...DEFAULT_RESTART_BACKOFF, ...options };
  }

  /** The delay before the next start, given how long the run that just ended lasted. */
  delayAfterExit(runMs: number): number {
    const { initialMs, maxMs, resetAfterMs } = this.#options;
    if (runMs >= resetAfterMs) this.#failures = 0;
    const delay = Math.min(maxMs, initialMs * 2 ** Math.min(this.#failures, 30));
    this.#failures += 1;
    return delay;
  }
}
