/**
 * The process target's life cycle: open until `close` or `release`, then closing, then
 * closed. It runs recovery once (holding the state directory's claim while the target is
 * open), serialises the changes to each version, lets every change under way finish before
 * the target winds down, and lets any caller of `close` hurry it. It knows nothing of
 * versions or processes: `process-target.ts` hands it the recovery to run and the work that
 * ends the target, so the ordering rules that keep a crash-safe registry consistent are in
 * one place, apart from what the target does with its processes.
 */
import { KeyedQueue } from '../../keyed-queue.js';
import { TargetError } from '../target-error.js';
import type { RecoveryReport } from '../target.js';
import { StateDirClaim } from './state-dir-claim.js';

/** Open, closing, closed: the states of one process target. */
export class ProcessTargetLifecycle {
  readonly #stateDir: string;
  readonly #claim: StateDirClaim;
  readonly #recoverClaimed: () => Promise<RecoveryReport>;
  readonly #locks = new KeyedQueue();
  #recovery: Promise<RecoveryReport> | undefined;
  #state: 'open' | 'closing' | 'closed' = 'open';
  #closing: Promise<void> | undefined;
  /** Aborted when any caller of close() hurries it. */
  readonly #hurry = new AbortController();

  /**
   * `stateDir` is the target's resolved state directory; `recoverClaimed` is the target's
   * recovery, run once, after the directory is claimed.
   */
  constructor(stateDir: string, recoverClaimed: () => Promise<RecoveryReport>) {
    this.#stateDir = stateDir;
    this.#claim = new StateDirClaim(stateDir);
    this.#recoverClaimed = recoverClaimed;
  }

  /** Runs the recovery on the first call; every later call gets the same result. */
  recover(signal?: AbortSignal): Promise<RecoveryReport> {
    if (signal?.aborted === true) return Promise.reject(signal.reason as Error);
    if (this.#recovery === undefined && this.#state !== 'open') return Promise.reject(this.#closedError());
    this.#recovery ??= this.#recover();
    return this.#recovery;
  }

  /** Resolves once recovery is done; rejects with `AVIARY_TARGET_CLOSED` when the target is not open. */
  async ready(signal?: AbortSignal): Promise<void> {
    await this.recover(signal);
    if (this.#state !== 'open') throw this.#closedError();
  }

  /** Runs `body` after recovery, serialised with the other changes under the same `key`. */
  async change<T>(key: string, signal: AbortSignal | undefined, body: () => Promise<T>): Promise<T> {
    signal?.throwIfAborted();
    await this.ready(signal);
    return this.#locks.run(key, () => {
      signal?.throwIfAborted();
      if (this.#state !== 'open') throw this.#closedError();
      return body();
    });
  }

  /**
   * Ends the target with `stop`, once. A call while a close is under way joins it, and its
   * `signal` aborts the signal `stop` was given; a call after `release` resolves at once.
   */
  close(signal: AbortSignal | undefined, stop: (hurry: AbortSignal) => Promise<void>): Promise<void> {
    if (signal !== undefined) {
      if (signal.aborted) this.#hurry.abort();
      else signal.addEventListener('abort', () => this.#hurry.abort(), { once: true });
    }
    if (this.#closing === undefined && this.#state !== 'open') return Promise.resolve();
    this.#closing ??= this.#windDown(() => stop(this.#hurry.signal));
    return this.#closing;
  }

  /** Ends an open target with `handOver`; does nothing once the target is closing or closed. */
  async release(handOver: () => Promise<void>): Promise<void> {
    if (this.#state !== 'open') return;
    await this.#windDown(handOver);
  }

  /** Waits for recovery and every change under way, runs `finish`, frees the state dir. */
  async #windDown(finish: () => Promise<void>): Promise<void> {
    this.#state = 'closing';
    await this.#recovery?.catch(() => undefined);
    await this.#locks.settled();
    await finish();
    this.#state = 'closed';
    this.#claim.release();
  }

  async #recover(): Promise<RecoveryReport> {
    // Claimed before the first await, so two instances in one process cannot both pass the check.
    this.#claim.take();
    try {
      return await this.#recoverClaimed();
    } catch (error) {
      this.#claim.release();
      throw error;
    }
  }

  #closedError(): TargetError {
    return new TargetError('AVIARY_TARGET_CLOSED', `process target in ${this.#stateDir} is closed`);
  }
}
