/**
 * The size of the rollout state journal under soak (docs/adr/0009-rollout-state-journal.md):
 * the journal files `journal.<generation>.jsonl` and the per-app snapshots `<app>.json` in
 * `<stateDir>/rollouts`. A journal is sealed at 16 MiB and folded into the snapshots, so the
 * newest generation tells how many folds happened.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** The journal's files at one moment. */
export interface JournalSize {
  readonly journalBytes: number;
  readonly snapshotBytes: number;
  /** The newest journal generation (one more per seal), or 0 before the first. */
  readonly generation: number;
}

/** The journal's files in `stateDir` now. */
export async function journalSize(stateDir: string): Promise<JournalSize> {
  const dir = join(stateDir, 'rollouts');
  let journalBytes = 0;
  let snapshotBytes = 0;
  let generation = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const bytes = (await stat(join(dir, name)).catch(() => undefined))?.size ?? 0;
    const journal = /^journal\.(\d+)\.jsonl$/.exec(name);
    if (journal !== null) {
      journalBytes += bytes;
      generation = Math.max(generation, Number(journal[1]));
    } else if (name.endsWith('.json')) snapshotBytes += bytes;
  }
  return { journalBytes, snapshotBytes, generation };
}
