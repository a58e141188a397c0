/**
 * Compaction of the rollout state journal (ADR 0009): one sealed journal folded into the
 * per-app snapshots, a few apps at a time, then deleted. A background task: the ticks go
 * on meanwhile and never wait for it.
 */
import { indexJournal } from './state-journal-index.js';
import {
  applyLine,
  journalPath,
  parseJournalLine,
  readSnapshot,
  snapshotPath,
  type FoldedApp,
} from './state-journal-read.js';
import { replaceFiles, type StateFileSystem } from './state-files.js';

/** How a fold goes about it. */
export interface FoldOptions {
  /** Events kept per app. */
  readonly eventLimit: number;
  /** Most apps folded and written per step. */
  readonly chunk: number;
  /**
   * Snapshot text a step may hold before it writes (one app's snapshot may pass it alone).
   * Bounds a fold's memory when apps carry long event histories: 500 events with their
   * evidence are hundreds of kB per app.
   */
  readonly chunkBytes: number;
  /** Snapshot files written at once. */
  readonly concurrency: number;
}

/** Snapshots folded and not yet written, and the apps whose snapshot goes. */
interface Step {
  files: { path: string; text: string }[];
  removed: string[];
  bytes: number;
}

/**
 * Folds the sealed journal of `generation` in `dir` into the snapshots of the apps it
 * touched, a step of at most `options.chunk` apps and about `options.chunkBytes` of text at
 * a time, then deletes it. A crash in between is harmless: a snapshot written covers the
 * journal's generation, so its lines are not applied to it again, and the journal is only
 * deleted once every app it touched is covered.
 */
export async function foldJournal(
  fs: StateFileSystem,
  dir: string,
  generation: number,
  options: FoldOptions,
): Promise<void> {
  const journal = await indexJournal(dir, generation);
  const write = async (step: Step): Promise<void> => {
    await replaceFiles(fs, dir, step.files, options.concurrency);
    // A snapshot this compaction wrote before the app's removal was journaled must not outlive it.
    for (const app of step.removed) await fs.remove(snapshotPath(dir, app));
  };
  try {
    let step: Step = { files: [], removed: [], bytes: 0 };
    for (const app of journal.lines.keys()) {
      const snapshot = await readSnapshot(dir, app);
      // Written by an earlier, interrupted compaction of this very journal.
      if (snapshot && snapshot.covers >= generation) continue;
      let folded: FoldedApp | undefined = snapshot && { ...snapshot, removed: false };
      for (const range of journal.lines.get(app) ?? []) {
        const entry = parseJournalLine(await journal.read(range));
        if (entry) folded = applyLine(folded, entry, options.eventLimit, journal.path);
      }
      if (!folded) continue;
      if (folded.removed) step.removed.push(app);
      else {
        const text = JSON.stringify({ covers: generation, state: folded.state, events: folded.events });
        step.files.push({ path: snapshotPath(dir, app), text });
        step.bytes += text.length;
      }
      if (step.files.length + step.removed.length >= options.chunk || step.bytes >= options.chunkBytes) {
        await write(step);
        step = { files: [], removed: [], bytes: 0 };
        // A background task: each step leaves the event loop to the ticks for a moment.
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    if (step.files.length + step.removed.length > 0) await write(step);
  } finally {
    await journal.close();
  }
  await fs.remove(journalPath(dir, generation));
  await fs.syncDirectory(dir);
}
