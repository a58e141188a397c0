/**
 * Durable rollout state for many apps at a flat cost per batch: one shared append-only
 * journal (`journal.<generation>.jsonl`, one fsync per batch of saves) and per-app
 * snapshots (`<app>.json`) written only by compaction. Each save carries the app's small
 * state document and only its new events. A full journal is sealed and a new one started;
 * the sealed one is folded into the snapshots in the background, a few apps at a time,
 * then deleted. This file queues saves into batches and reads; the journal files are
 * written by `state-journal-writer.ts`. See docs/adr/0009-rollout-state-journal.md.
 */
import { jsonEqual } from './json-delta.js';
import { foldFromDisk, trimTo, type TornTailListener } from './state-journal-read.js';
import { JournalWriter, type PendingSave } from './state-journal-writer.js';
import {
  assertAppName,
  durablePromise,
  GroupCommit,
  nodeStateFileSystem,
  type StateFileSystem,
} from './state-files.js';

/** What is kept of one app: its state document and its most recent events, oldest first. */
export interface StoredState<S, E> {
  readonly state: S;
  readonly events: readonly E[];
}

/** Options of {@link StateJournal}. */
export interface StateJournalOptions {
  /** File-system seam; default {@link nodeStateFileSystem}. */
  readonly fs?: StateFileSystem;
  /** Events kept per app; default 500. */
  readonly eventLimit?: number;
  /** Journal size at which it is sealed and compacted; default 16 MiB. */
  readonly compactAtBytes?: number;
  /** Snapshot files written at once by a compaction (a background task); default 4. */
  readonly concurrency?: number;
  /** Apps a compaction folds and writes per step (bounds its memory); default 50. */
  readonly compactionChunk?: number;
  /** Snapshot text a compaction step holds before it writes (bounds its memory); default 1 MiB. */
  readonly compactionChunkBytes?: number;
  /** Told when a background compaction fails (it is tried again after the next batch). */
  readonly onCompactionError?: (err: unknown) => void;
  /**
   * Told once per journal whose torn last line a load skipped (a crash cut an append); the
   * state before that line is used. Default: nothing.
   */
  readonly onTornTail?: TornTailListener;
}

/** Per-app state under `<dir>/`: a shared journal plus snapshots. One writer per directory. */
export class StateJournal<S, E> {
  private readonly dir: string;
  private readonly eventLimit: number;
  private readonly onTornTail: TornTailListener | undefined;
  /** Journals whose torn tail was reported already. */
  private readonly reportedTornTails = new Set<string>();
  /**
   * The newest state saved per app (written or queued), so an unchanged one is not written
   * again. The caller's own object, compared structurally: no text or digest per save,
   * which at 1,000 ticks a second was garbage promoted to V8's old space.
   */
  private readonly latest = new Map<string, { state: unknown; durable: Promise<void> }>();
  private readonly writer: JournalWriter;
  private readonly batches = new GroupCommit<PendingSave>({
    write: (batch) => this.writer.append(batch),
    failed: (batch) => {
      // A failed write is not "already written": the next save of the same state tries again.
      for (const [app, save] of batch)
        if (this.latest.get(app)?.durable === save.durable) this.latest.delete(app);
      this.writer.appendFailed();
    },
    after: () => this.writer.compactInBackground(),
  });

  constructor(dir: string, options: StateJournalOptions = {}) {
    this.dir = dir;
    this.eventLimit = options.eventLimit ?? 500;
    this.onTornTail = options.onTornTail;
    this.writer = new JournalWriter(dir, options.fs ?? nodeStateFileSystem, {
      eventLimit: this.eventLimit,
      compactAtBytes: options.compactAtBytes ?? 16 * 1024 * 1024,
      concurrency: options.concurrency ?? 4,
      compactionChunk: options.compactionChunk ?? 50,
      compactionChunkBytes: options.compactionChunkBytes ?? 1024 * 1024,
      onCompactionError: options.onCompactionError ?? (() => undefined),
    });
  }

  /**
   * Saves `state` and appends `events` for `app`; resolves once they (or newer ones) are
   * durable. An unchanged state with no new event writes nothing; a changed one is written
   * as what changed since the app's previous line.
   *
   * `state` (a JSON document) must not be changed after the call, nor anything inside it
   * that the next state shares: the journal keeps it to compare that state with.
   */
  save(app: string, state: S, events: readonly E[] = []): Promise<void> {
    assertAppName(app);
    const last = this.latest.get(app);
    if (events.length === 0 && last && jsonEqual(last.state, state)) return last.durable;
    const queued = this.queue(app);
    queued.hasState = true;
    queued.state = state;
    queued.events.push(...events);
    trimTo(queued.events, this.eventLimit);
    this.latest.set(app, { state, durable: queued.durable });
    return queued.durable;
  }

  /** Forgets `app`: a removal line in the journal, then its snapshot is deleted. */
  remove(app: string): Promise<void> {
    assertAppName(app);
    const queued = this.queue(app);
    queued.removeFirst = true;
    queued.hasState = false;
    queued.state = undefined;
    queued.events = [];
    this.latest.delete(app);
    return queued.durable;
  }

  /** Resolves once every save so far has settled and no compaction is running. */
  async settled(): Promise<void> {
    while (this.batches.running || this.writer.compacting) {
      await this.batches.running;
      await this.writer.compacting;
    }
  }

  private queue(app: string): PendingSave {
    const queued = this.batches.queued(app);
    if (queued) return queued;
    const save: PendingSave = {
      removeFirst: false,
      hasState: false,
      state: undefined,
      events: [],
      ...durablePromise(),
    };
    this.batches.add(app, save);
    return save;
  }

  /** Loads one app: its snapshot, then the journals' lines for it. Never writes. */
  async load(app: string): Promise<StoredState<S, E> | undefined> {
    assertAppName(app);
    return (await this.loadFolded(new Set([app]))).get(app);
  }

  /** Loads every app with saved state. Never writes. */
  loadAll(): Promise<Map<string, StoredState<S, E>>> {
    return this.loadFolded('all');
  }

  /** Apps with saved state. */
  async apps(): Promise<string[]> {
    return [...(await this.loadAll()).keys()];
  }

  private async loadFolded(apps: ReadonlySet<string> | 'all'): Promise<Map<string, StoredState<S, E>>> {
    // Saves of this process that are under way first: a load sees what was saved before it.
    await this.batches.running;
    const loaded = new Map<string, StoredState<S, E>>();
    const onTornTail = (path: string, bytes: number): void => {
      if (this.reportedTornTails.has(path)) return;
      this.reportedTornTails.add(path);
      this.onTornTail?.(path, bytes);
    };
    for (const [app, folded] of await foldFromDisk(this.dir, apps, this.eventLimit, Infinity, onTornTail)) {
      if (!folded.removed) loaded.set(app, { state: folded.state as S, events: folded.events as E[] });
    }
    return loaded;
  }
}
