/**
 * How the controller saves each app's record: the state document and only the events recorded
 * since the last save, in the store it is given or, by default, the state journal in
 * `<stateDir>/rollouts` (ADR 0009).
 */
import { join } from 'node:path';
import type { RolloutStateStore } from '../state/rollout-state-store.js';
import { StateJournal } from '../state/state-journal.js';
import type { RolloutEventRecord } from './action-executor.js';
import { EVENT_HISTORY, persistedOf, type AppRecord, type PersistedRollout } from './app-record.js';

/**
 * The default store: the state journal in `<stateDir>/rollouts`, keeping {@link EVENT_HISTORY}
 * events per app, sealed and folded at `compactAtBytes` (the journal's default when absent). A
 * failed background compaction is a process warning; it is tried again after the next save. A
 * torn last journal line (a crash mid-append) is skipped with a process warning.
 */
export function defaultStateStore(
  stateDir: string,
  compactAtBytes: number | undefined,
): RolloutStateStore<PersistedRollout, RolloutEventRecord> {
  return new StateJournal(join(stateDir, 'rollouts'), {
    eventLimit: EVENT_HISTORY,
    ...(compactAtBytes !== undefined ? { compactAtBytes } : {}),
    onCompactionError: (err) =>
      process.emitWarning(`state journal compaction failed, retried after the next save: ${String(err)}`),
    onTornTail: (path, bytes) =>
      process.emitWarning(
        `state journal ${path}: its last line is torn (${bytes} bytes without a newline: a crash cut the write); skipped, the state saved before it is used`,
      ),
  });
}

/** Saves the record's state document and the events recorded since the last save. */
export async function saveRecord(
  store: RolloutStateStore<PersistedRollout, RolloutEventRecord>,
  record: AppRecord,
): Promise<void> {
  const fresh = record.unsaved.splice(0);
  try {
    await store.save(record.spec.name, persistedOf(record), fresh);
  } catch (err) {
    // Not written: they go with the next save, before anything recorded since.
    record.unsaved.unshift(...fresh);
    throw err;
  }
}
