/**
 * Durable rollout state for many apps at a flat cost per batch: one shared append-only
 * journal (`journal.<generation>.jsonl`, one fsync per batch of saves) and per-app
 * snapshots (`<app>.json`) written only by compaction. Each save carries the app's small
 * state document and only its new events. A full journal is sealed and a new one started;
 * the sealed one is folded into the snapshots in the background, a few apps at a time,
 * then deleted. See docs/adr/0009-rollout-state-journal.md.
 */
import { isJsonObject, jsonDelta, jsonEqual } from './json-delta.js';
import { foldJournal } from './state-journal-fold.js';
import {
  foldFromDisk,
  JOURNAL_FORMAT,
  journalGenerations,
  journalPath,
  newestSnapshotGeneration,
  snapshotPath,
  trimTo,
  type TornTailListener,
} from './state-journal-read.js';
import {
  assertAppName,
  durablePromise,
  GroupCommit,
  nodeStateFileSystem,
  replaceFiles,
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

/** A save waiting for the next batch: the app's newest state and every event not yet written. */
interface PendingSave {
  /** A removal line goes first: the app was removed, and may have been saved again since. */
  removeFirst: boolean;
  /** Whether `state` is to be written (not after a removal with no save since). */
  hasState: boolean;
  /** Serialised only when the batch is written, and then only what changed. */
  state: unknown;
  events: unknown[];
  readonly durable: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
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

/** Per-app state under `<dir>/`: a shared journal plus snapshots. One writer per directory. */
export class StateJournal<S, E> {
  private readonly dir: string;
  private readonly fs: StateFileSystem;
  private readonly eventLimit: number;
  private readonly compactAtBytes: number;
  private readonly concurrency: number;
  private readonly compactionChunk: number;
  private readonly compactionChunkBytes: number;
  private readonly onCompactionError: (err: unknown) => void;
  private readonly onTornTail: TornTailListener | undefined;
  /** Journals whose torn tail was reported already. */
  private readonly reportedTornTails = new Set<string>();
  /**
   * The newest state saved per app (written or queued), so an unchanged one is not written
   * again. The caller's own object, compared structurally: no text or digest per save,
   * which at 1,000 ticks a second was garbage promoted to V8's old space.
   */
  private readonly latest = new Map<string, { state: unknown; durable: Promise<void> }>();
  /**
   * The state each app's journal lines fold to, for the apps whose last line went into an
   * append that succeeded: the base the next line's delta is taken against (ADR 0010).
   */
  private readonly inJournal = new Map<string, unknown>();
  private readonly batches = new GroupCommit<PendingSave>({
    write: (batch) => this.append(batch),
    failed: (batch) => {
      // A failed write is not "already written": the next save of the same state tries again.
      for (const [app, save] of batch)
        if (this.latest.get(app)?.durable === save.durable) this.latest.delete(app);
      // The append may have left some of its lines behind, whole or torn: no delta may rest
      // on what they hold, so every app's next line is whole.
      this.inJournal.clear();
      // A torn line can only be the last one of a journal: that journal takes no more lines.
      this.current.broken = true;
    },
    after: () => this.compactInBackground(),
  });
  private opened: Promise<void> | undefined;
  /** The journal appends go to. */
  private current = { generation: 0, bytes: 0, broken: false };
  /** Generations of the sealed journals not yet folded into the snapshots, oldest first. */
  private readonly sealed: number[] = [];
  private compacting: Promise<void> | undefined;

  constructor(dir: string, options: StateJournalOptions = {}) {
    this.dir = dir;
    this.fs = options.fs ?? nodeStateFileSystem;
    this.eventLimit = options.eventLimit ?? 500;
    this.compactAtBytes = options.compactAtBytes ?? 16 * 1024 * 1024;
    this.concurrency = options.concurrency ?? 4;
    this.compactionChunk = options.compactionChunk ?? 50;
    this.compactionChunkBytes = options.compactionChunkBytes ?? 1024 * 1024;
    this.onCompactionError = options.onCompactionError ?? (() => undefined);
    this.onTornTail = options.onTornTail;
  }

  private snapshotPath(app: string): string {
    return snapshotPath(this.dir, app);
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
    while (this.batches.running || this.compacting) {
      await this.batches.running;
      await this.compacting;
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

  /** One batch: one append and one fsync of the journal, then the snapshots of removed apps go. */
  private async append(batch: ReadonlyMap<string, PendingSave>): Promise<void> {
    await this.open();
    if (this.current.broken || this.current.bytes >= this.compactAtBytes) await this.rotate();
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
    await this.fs.append(journalPath(this.dir, this.current.generation), text);
    this.current.bytes += Buffer.byteLength(text);
    for (const [app, save] of batch) {
      if (save.hasState) this.inJournal.set(app, save.state);
      else if (save.removeFirst) this.inJournal.delete(app);
    }
    for (const [app, save] of batch) if (save.removeFirst) await this.fs.remove(this.snapshotPath(app));
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
    await replaceFiles(this.fs, this.dir, [{ path: journalPath(this.dir, generation), text: header }], 1);
    this.current = { generation, bytes: Buffer.byteLength(header), broken: false };
  }

  /** Seals the current journal (full, or broken by a failed append) and starts the next one. */
  private async rotate(): Promise<void> {
    const { generation } = this.current;
    await this.startJournal(generation + 1);
    this.sealed.push(generation);
  }

  /** Starts folding the sealed journals unless that is already under way. */
  private compactInBackground(): void {
    if (this.compacting || this.sealed.length === 0) return;
    this.compacting = this.compactSealed()
      .catch((err: unknown) => this.onCompactionError(err))
      .finally(() => {
        this.compacting = undefined;
      });
  }

  /**
   * Folds each sealed journal, oldest first, into the snapshots of the apps it touched,
   * then deletes it (see {@link foldJournal}).
   */
  private async compactSealed(): Promise<void> {
    for (let generation = this.sealed[0]; generation !== undefined; generation = this.sealed[0]) {
      await foldJournal(this.fs, this.dir, generation, {
        eventLimit: this.eventLimit,
        chunk: this.compactionChunk,
        chunkBytes: this.compactionChunkBytes,
        concurrency: this.concurrency,
      });
      this.sealed.shift();
    }
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
