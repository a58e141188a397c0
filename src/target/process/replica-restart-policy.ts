/**
 * What a replica's exit means. A process that dies before it was ever ready, having written
 * EADDRINUSE, lost a race for its port (free when found, taken before it was bound): it is
 * retried on a new port at once, a few times in a row. Any other exit is a crash, restarted
 * after the backoff of `restart-backoff.ts`.
 */
import { RestartBackoff, type RestartBackoffOptions } from './restart-backoff.js';

/** Consecutive port races tolerated before a start failure counts as a crash. */
const MAX_PORT_RETRIES = 5;

/** Restart bookkeeping of one replica across its runs. */
export class ReplicaRestartPolicy {
  #restarts = 0;
  #sawAddressInUse = false;
  #everReady = false;
  #portRetries = 0;
  readonly #backoff: RestartBackoff;

  constructor(backoff: RestartBackoffOptions) {
    this.#backoff = new RestartBackoff(backoff);
  }

  /** Crashes so far; port-race retries are not counted. */
  get restarts(): number {
    return this.#restarts;
  }

  /** A new run (spawned or adopted) has not been ready yet. */
  runBegan(): void {
    this.#everReady = false;
  }

  /** A new process was spawned: EADDRINUSE seen from an earlier one no longer counts. */
  spawned(): void {
    this.#sawAddressInUse = false;
  }

  /** The process reported EADDRINUSE. */
  addressInUse(): void {
    this.#sawAddressInUse = true;
  }

  /** The run became ready: its port is bound, so the race retries start over. */
  becameReady(): void {
    this.#everReady = true;
    this.#portRetries = 0;
  }

  /** True when the exit was a lost port race to retry at once; the retry is counted. */
  takePortRetry(): boolean {
    const raced = this.#sawAddressInUse && !this.#everReady && this.#portRetries < MAX_PORT_RETRIES;
    if (raced) this.#portRetries += 1;
    return raced;
  }

  /** Counts a crash after a run of `runMs`; returns the delay before the restart. */
  crashed(runMs: number): number {
    const delay = this.#backoff.delayAfterExit(runMs);
    this.#restarts += 1;
    return delay;
  }
}
