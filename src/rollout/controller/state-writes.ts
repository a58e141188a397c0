/**
 * Saving each app's record, and what the controller does when its state cannot be saved:
 * the state directory full (ENOSPC), remounted read-only (EROFS), or any store refusing a
 * save. The rollout holds: no further step or promotion while its state cannot be made
 * durable, since a restart would resume from the last saved state and lose every step taken
 * since (docs/adr/0031-state-write-failures.md). Traffic is not touched: the router keeps
 * the weights in force. The failure is reported once, when it starts (a `StateWriteFailed`
 * warning event, a process warning naming the file and the errno, a metric), and again
 * when a save succeeds (`StateWriteRecovered`); every tick in between tries the save again.
 */
import type { RolloutStateStore } from '../state/rollout-state-store.js';
import { errnoOf, StateWriteError } from '../state/state-write-error.js';
import type { RolloutEventRecord } from './action-executor.js';
import type { AppRecord, PersistedRollout, StateWriteFailure } from './app-record.js';
import type { ControllerMetrics } from './controller-metrics.js';
import { saveRecord } from './rollout-persistence.js';

/** What {@link StateWrites} reports through. */
export interface StateWritesDeps {
  readonly store: RolloutStateStore<PersistedRollout, RolloutEventRecord>;
  readonly metrics: ControllerMetrics;
  readonly now: () => number;
  /** Records an event of the app (kept, streamed, and saved with the next save). */
  readonly event: (record: AppRecord, reason: string, message: string, severity: 'info' | 'warning') => void;
  /** A log line for the operator; default a process warning (stderr). */
  readonly warn?: (message: string) => void;
}

/** The failure `err` of a save, as the view and the event tell it. */
export function stateWriteFailureOf(err: unknown, since: number): StateWriteFailure {
  const path = err instanceof StateWriteError ? err.path : undefined;
  return {
    code: errnoOf(err) ?? 'EUNKNOWN',
    message: err instanceof Error ? err.message : String(err),
    since,
    attempts: 1,
    ...(path !== undefined ? { path } : {}),
  };
}

/** Saves records and tracks, per app, whether its state is durable. */
export class StateWrites {
  constructor(private readonly deps: StateWritesDeps) {}

  /**
   * Saves the record's state and unsaved events; answers whether they are durable. Never
   * throws: a failure is kept on the record (`stateWriteFailure`) and reported when it starts.
   */
  async save(record: AppRecord): Promise<boolean> {
    const app = record.spec.name;
    try {
      await saveRecord(this.deps.store, record);
    } catch (err) {
      this.failed(record, err);
      return false;
    }
    const failure = record.stateWriteFailure;
    if (failure === undefined) return true;
    record.stateWriteFailure = undefined;
    this.deps.metrics.stateWriteRecovered(app);
    const held = Math.round((this.deps.now() - failure.since) / 1000);
    const message = `state saved again after ${failure.attempts} failed attempts over ${held} s (${failure.code}); the rollout goes on`;
    this.deps.event(record, 'StateWriteRecovered', message, 'info');
    (this.deps.warn ?? process.emitWarning)(`rollout ${app}: ${message}`);
    // The two events of the failure are saved now, not at the next step.
    return this.save(record);
  }

  private failed(record: AppRecord, err: unknown): void {
    const app = record.spec.name;
    this.deps.metrics.stateWriteFailed(app);
    const known = record.stateWriteFailure;
    if (known !== undefined) {
      known.attempts += 1;
      return;
    }
    const failure = stateWriteFailureOf(err, this.deps.now());
    record.stateWriteFailure = failure;
    const message = `state not saved: ${failure.message}; the rollout holds at weight ${record.status?.canaryWeight ?? 0} (no step or promotion) until it is saved, traffic is unchanged`;
    this.deps.event(record, 'StateWriteFailed', message, 'warning');
    (this.deps.warn ?? process.emitWarning)(`rollout ${app}: ${message}`);
  }
}
