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
  /** Apps folded and written per step (bounds the memory a fold holds). */
  readonly chunk: number;
  /** Snapshot files written at once. */
  readonly concurrency: number;
}

/**
 * Folds the sealed journal of `generation` in `dir` into the snapshots of the apps it
 * touched, `options.chunk` apps at a time, then deletes it. A crash in between is
 * harmless: a snapshot written covers the journal's generation, so its lines are not
 * applied to it again, and the journal is only deleted once every app it touched is covered.
 */
export async function foldJournal(
  fs: StateFileSystem,
  dir: string,
  generation: number,
  options: FoldOptions,
): Promise<void> {
  const journal = await indexJournal(dir, generation);
  try {
    const apps = [...journal.lines.keys()];
    for (let from = 0; from < apps.length; from += options.chunk) {
      // A background task: each chunk leaves the event loop to the ticks for a moment.
      if (from > 0) await new Promise((resolve) => setTimeout(resolve, 10));
      const files: { path: string; text: string }[] = [];
      const removed: string[] = [];
      for (const app of apps.slice(from, from + options.chunk)) {
        const snapshot = await readSnapshot(dir, app);
        // Written by an earlier, interrupted compaction of this very journal.
        if (snapshot && snapshot.covers >= generation) continue;
        let folded: FoldedApp | undefined = snapshot && { ...snapshot, removed: false };
        for (const range of journal.lines.get(app) ?? []) {
          const entry = parseJournalLine(await journal.read(range));
          if (entry) folded = applyLine(folded, entry, options.eventLimit, journal.path);
        }
        if (!folded) continue;
        if (folded.removed) removed.push(app);
        else {
          const text = JSON.stringify({ covers: generation, state: folded.state, events: folded.events });
          files.push({ path: snapshotPath(dir, app), text });
        }
      }
      await replaceFiles(fs, dir, files, options.concurrency);
      // A snapshot this compaction wrote before the app's removal was journaled must not outlive it.
      for (const app of removed) await fs.remove(snapshotPath(dir, app));
    }
  } finally {
    await journal.close();
  }
  await fs.remove(journalPath(dir, generation));
  await fs.syncDirectory(dir);
}
