/**
 * The writing side of the rollout state journal (ADR 0009, 0010): turns a batch of saves
 * into journal lines (each state as what changed since the app's previous line), appends
 * them with one fsync, seals a full or broken journal and starts the next generation, and
 * folds sealed journals into the snapshots in the background. `state-journal.ts` queues the
 * saves and reads; this file owns the files appends go to.
 */
import { isJsonObject, jsonDelta } from './json-delta.js';
import { foldJournal } from './state-journal-fold.js';
import {
  JOURNAL_FORMAT,
  journalGenerations,
  journalPath,
  newestSnapshotGeneration,
  snapshotPath,
} from './state-journal-read.js';
import { replaceFiles, type Queued, type StateFileSystem } from './state-files.js';
import { StateWriteError } from './state-write-error.js';

/** A save waiting for the next batch: the app's newest state and every event not yet written. */
export interface PendingSave extends Queued {
  /** A removal line goes first: the app was removed, and may have been saved again since. */
  removeFirst: boolean;
  /** Whether `state` is to be written (not after a removal with no save since). */
  hasState: boolean;
  /** Serialised only when the batch is written, and then only what changed. */
  state: unknown;
  events: unknown[];
}

/** How a {@link JournalWriter} seals and folds its journals. */
export interface JournalWriterOptions {
  /** Events kept per app. */
  readonly eventLimit: number;
  /** Journal size at which it is sealed and compacted. */
  readonly compactAtBytes: number;
  /** Snapshot files written at once by a compaction. */
  readonly concurrency: number;
  /** Apps a compaction folds and writes per step. */
  readonly compactionChunk: number;
  /** Snapshot text a compaction step holds before it writes. */
  readonly compactionChunkBytes: number;
  /** Told when a background compaction fails (it is tried again after the next batch). */
  readonly onCompactionError: (err: unknown) => void;
}

/**
 * The state part of a journal line: what changed since `base` (the state the app's earlier
 * lines fold to) when both are objects, else the whole state. Nothing when only events are new.
 */
function stateField(base: unknown, state: unknown): string {
  if (!isJsonObject(base) || !isJsonObject(state)) return `,"state":${JSON.stringify(state)}`;
  const delta = jsonDelta(base, state);
  return delta.length > 0 ? `,"delta":${JSON.stringify(delta)}` : '';
}

/** The journal files of one state directory as one writer appends to them. */
export class JournalWriter {
  /**
   * The state each app's journal lines fold to, for the apps whose last line went into an
   * append that succeeded: the base the next line's delta is taken against (ADR 0010).
   */
  private readonly inJournal = new Map<string, unknown>();
  private opened: Promise<void> | undefined;
  /** The journal appends go to. */
  private current = { generation: 0, bytes: 0, broken: false };
  /** Generations of the sealed journals not yet folded into the snapshots, oldest first. */
  private readonly sealed: number[] = [];
  private folding: Promise<void> | undefined;

  constructor(
    private readonly dir: string,
    private readonly fs: StateFileSystem,
    private readonly options: JournalWriterOptions,
  ) {}

  /** The background compaction under way, if any. */
  get compacting(): Promise<void> | undefined {
    return this.folding;
  }

  /** One batch: one append and one fsync of the journal, then the snapshots of removed apps go. */
  async append(batch: ReadonlyMap<string, PendingSave>): Promise<void> {
    await this.open();
    if (this.current.broken || this.current.bytes >= this.options.compactAtBytes) await this.rotate();
    let text = '';
    for (const [app, save] of batch) {
      const name = JSON.stringify(app);
      if (save.removeFirst) text += `{"app":${name},"removed":true}\n`;
      if (save.hasState) {
        const base = save.removeFirst ? undefined : this.inJournal.get(app);
        const events = save.events.length > 0 ? `,"events":${JSON.stringify(save.events)}` : '';
        text += `{"app":${name}${stateField(base, save.state)}${events}}\n`;
      }
    }
    const path = journalPath(this.dir, this.current.generation);
    try {
      await this.fs.append(path, text);
    } catch (err) {
      throw new StateWriteError(path, `append of ${Buffer.byteLength(text)} bytes`, err);
    }
    this.current.bytes += Buffer.byteLength(text);
    for (const [app, save] of batch) {
      if (save.hasState) this.inJournal.set(app, save.state);
      else if (save.removeFirst) this.inJournal.delete(app);
    }
    for (const [app, save] of batch) if (save.removeFirst) await this.fs.remove(snapshotPath(this.dir, app));
  }

  /** After an append failed: what it left behind, whole or torn, is never built on. */
  appendFailed(): void {
    // No delta may rest on the lines it may have left: every app's next line is whole.
    this.inJournal.clear();
    // A torn line can only be the last one of a journal: that journal takes no more lines.
    this.current.broken = true;
  }

  /**
   * Finds the journals an earlier run left, seals them all (their compaction starts in the
   * background; a torn last line in them is skipped by every reader) and starts a new one.
   */
  private open(): Promise<void> {
    this.opened ??= (async () => {
      await this.fs.makeDirectory(this.dir);
      const generations = await journalGenerations(this.dir);
      this.sealed.push(...generations);
      const newest = generations.at(-1) ?? (await newestSnapshotGeneration(this.dir));
      await this.startJournal(newest + 1);
      this.compactInBackground();
    })();
    this.opened.catch(() => {
      this.opened = undefined;
      this.sealed.length = 0;
    });
    return this.opened;
  }

  /** Creates the journal of `generation` (its header only) and appends go there from now on. */
  private async startJournal(generation: number): Promise<void> {
    const header = `${JSON.stringify({ journal: JOURNAL_FORMAT, generation })}\n`;
    const path = journalPath(this.dir, generation);
    try {
      await replaceFiles(this.fs, this.dir, [{ path, text: header }], 1);
    } catch (err) {
      throw new StateWriteError(path, 'creating the journal', err);
    }
    this.current = { generation, bytes: Buffer.byteLength(header), broken: false };
  }

  /** Seals the current journal (full, or broken by a failed append) and starts the next one. */
  private async rotate(): Promise<void> {
    const { generation } = this.current;
    await this.startJournal(generation + 1);
    this.sealed.push(generation);
  }

  /** Starts folding the sealed journals unless that is already under way. */
  compactInBackground(): void {
    if (this.folding || this.sealed.length === 0) return;
    this.folding = this.compactSealed()
      .catch((err: unknown) => this.options.onCompactionError(err))
      .finally(() => {
        this.folding = undefined;
      });
  }

  /**
   * Folds each sealed journal, oldest first, into the snapshots of the apps it touched,
   * then deletes it (see {@link foldJournal}).
   */
  private async compactSealed(): Promise<void> {
    for (let generation = this.sealed[0]; generation !== undefined; generation = this.sealed[0]) {
      await foldJournal(this.fs, this.dir, generation, {
        eventLimit: this.options.eventLimit,
        chunk: this.options.compactionChunk,
        chunkBytes: this.options.compactionChunkBytes,
        concurrency: this.options.concurrency,
      });
      this.sealed.shift();
    }
  }
}
