/**
 * Durable rollout state for many apps at a flat cost per batch: one shared append-only
 * journal (`journal.jsonl`, one fsync per batch of saves) and per-app snapshots
 * (`<app>.json`) written only by compaction. Each save carries the app's small state
 * document and only its new events. See docs/adr/0009-rollout-state-journal.md.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  foldFromDisk,
  JOURNAL_FILE,
  JOURNAL_FORMAT,
  journalGeneration,
  parseJournalLine,
  readSnapshot,
  snapshotApps,
  trimTo,
} from './state-journal-read.js';
import {
  assertAppName,
  durablePromise,
  nodeStateFileSystem,
  replaceFiles,
  type StateFileSystem,
} from './state-store.js';

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
  /** Journal size that triggers a compaction; default 16 MiB. */
  readonly compactAtBytes?: number;
  /** Snapshot files written at once by a compaction; default 16. */
  readonly concurrency?: number;
}

/** A save waiting for the next batch: the app's newest state and every event not yet written. */
interface PendingSave {
  /** A removal line goes first: the app was removed, and may have been saved again since. */
  removeFirst: boolean;
  stateText: string | undefined;
  events: unknown[];
  readonly durable: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/** Per-app state under `<dir>/`: a shared journal plus snapshots. One writer per directory. */
export class StateJournal<S, E> {
  private readonly dir: string;
  private readonly journalPath: string;
  private readonly fs: StateFileSystem;
  private readonly eventLimit: number;
  private readonly compactAtBytes: number;
  private readonly concurrency: number;
  /**
   * Digest of the newest state written or queued per app, so an unchanged one is not
   * written again. A digest rather than the text: a text kept for a second per app is
   * promoted to V8's old space at every tick, and the bench's peak RSS showed it.
   */
  private readonly written = new Map<string, { digest: string; durable: Promise<void> }>();
  private pending = new Map<string, PendingSave>();
  private flushing: Promise<void> | undefined;
  private opened: Promise<void> | undefined;
  private generation = 0;
  private journalBytes = 0;
  /** The journal does not end with a complete line (a torn append): it is cut before the next one. */
  private tornTail = false;
  /** Apps with lines in the current journal: what the next compaction folds. */
  private readonly dirty = new Set<string>();

  constructor(dir: string, options: StateJournalOptions = {}) {
    this.dir = dir;
    this.journalPath = join(dir, JOURNAL_FILE);
    this.fs = options.fs ?? nodeStateFileSystem;
    this.eventLimit = options.eventLimit ?? 500;
    this.compactAtBytes = options.compactAtBytes ?? 16 * 1024 * 1024;
    this.concurrency = options.concurrency ?? 16;
  }

  private snapshotPath(app: string): string {
    return join(this.dir, `${assertAppName(app)}.json`);
  }

  /**
   * Saves `state` and appends `events` for `app`; resolves once they (or newer ones) are
   * durable. An unchanged state with no new event writes nothing.
   */
  save(app: string, state: S, events: readonly E[] = []): Promise<void> {
    assertAppName(app);
    const stateText = JSON.stringify(state);
    const digest = createHash('sha256').update(stateText).digest('base64');
    const last = this.written.get(app);
    if (events.length === 0 && last?.digest === digest) return last.durable;
    const queued = this.queue(app);
    queued.stateText = stateText;
    queued.events.push(...events);
    trimTo(queued.events, this.eventLimit);
    this.written.set(app, { digest, durable: queued.durable });
    return queued.durable;
  }

  /** Forgets `app`: a removal line in the journal, then its snapshot is deleted. */
  remove(app: string): Promise<void> {
    assertAppName(app);
    const queued = this.queue(app);
    queued.removeFirst = true;
    queued.stateText = undefined;
    queued.events = [];
    this.written.delete(app);
    return queued.durable;
  }

  private queue(app: string): PendingSave {
    const queued = this.pending.get(app);
    if (queued) return queued;
    const save: PendingSave = { removeFirst: false, stateText: undefined, events: [], ...durablePromise() };
    this.pending.set(app, save);
    // A microtask later, so the saves of the same turn of the event loop join the first batch.
    this.flushing ??= Promise.resolve().then(() => this.flush());
    return save;
  }

  private async flush(): Promise<void> {
    while (this.pending.size > 0) {
      const batch = this.pending;
      this.pending = new Map();
      try {
        await this.append(batch);
        for (const save of batch.values()) save.resolve();
      } catch (err) {
        for (const [app, save] of batch) {
          // A failed write is not "already written": the next save of the same state tries again.
          if (this.written.get(app)?.durable === save.durable) this.written.delete(app);
          save.reject(err);
        }
        // The append may have left part of a line behind; cut it before the next one.
        this.tornTail = true;
      }
      if (this.journalBytes >= this.compactAtBytes) {
        // A failed compaction leaves the journal as it was, still complete; the next batch tries again.
        await this.compact().catch(() => undefined);
      }
    }
    this.flushing = undefined;
  }

  /** One batch: one append and one fsync of the journal, then the snapshots of removed apps go. */
  private async append(batch: ReadonlyMap<string, PendingSave>): Promise<void> {
    await this.open();
    if (this.tornTail) await this.cutTornTail();
    let text = '';
    for (const [app, save] of batch) {
      const name = JSON.stringify(app);
      if (save.removeFirst) text += `{"app":${name},"removed":true}\n`;
      if (save.stateText !== undefined) {
        const events = save.events.length > 0 ? `,"events":${JSON.stringify(save.events)}` : '';
        text += `{"app":${name},"state":${save.stateText}${events}}\n`;
      }
      this.dirty.add(app);
    }
    await this.fs.append(this.journalPath, text);
    this.journalBytes += Buffer.byteLength(text);
    for (const [app, save] of batch) if (save.removeFirst) await this.fs.remove(this.snapshotPath(app));
  }

  /**
   * Reads the journal once. A journal left with lines by an earlier run is compacted at
   * once, so this run appends to a fresh generation: lines of an interrupted compaction and
   * a torn last line are settled before anything is added.
   */
  private open(): Promise<void> {
    this.opened ??= (async () => {
      await this.fs.makeDirectory(this.dir);
      let text: string;
      try {
        text = await readFile(this.journalPath, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        await this.startJournal((await this.newestSnapshotGeneration()) + 1);
        return;
      }
      const lines = text.split('\n');
      this.generation = journalGeneration(this.journalPath, lines[0] ?? '');
      this.journalBytes = Buffer.byteLength(text);
      for (const line of lines.slice(1)) {
        const app = parseJournalLine(line)?.app;
        if (app !== undefined) this.dirty.add(app);
      }
      if (this.dirty.size > 0 || !text.endsWith('\n')) await this.compact();
    })();
    this.opened.catch(() => {
      this.opened = undefined;
    });
    return this.opened;
  }

  /** The highest generation any snapshot covers; 0 when there is none. */
  private async newestSnapshotGeneration(): Promise<number> {
    let newest = 0;
    for (const app of await snapshotApps(this.dir)) {
      const snapshot = await readSnapshot(this.dir, app);
      if (snapshot) newest = Math.max(newest, snapshot.covers);
    }
    return newest;
  }

  /** Replaces the journal with one holding only the header of `generation`. */
  private async startJournal(generation: number): Promise<void> {
    const header = `${JSON.stringify({ journal: JOURNAL_FORMAT, generation })}\n`;
    await replaceFiles(this.fs, this.dir, [{ path: this.journalPath, text: header }], 1);
    this.generation = generation;
    this.journalBytes = Buffer.byteLength(header);
    this.tornTail = false;
    this.dirty.clear();
  }

  /** Rewrites the journal without its torn last line. */
  private async cutTornTail(): Promise<void> {
    const text = await readFile(this.journalPath, 'utf8');
    const whole = text.slice(0, text.lastIndexOf('\n') + 1);
    await replaceFiles(this.fs, this.dir, [{ path: this.journalPath, text: whole }], 1);
    this.journalBytes = Buffer.byteLength(whole);
    this.tornTail = false;
  }

  /**
   * Folds the journal into the snapshots of the apps it touched, then starts the next
   * generation. A crash in between is harmless: those snapshots already cover this
   * generation, so its lines are not applied to them again.
   */
  private async compact(): Promise<void> {
    const folded = await foldFromDisk(this.dir, new Set(this.dirty), this.eventLimit);
    const files = [...folded]
      .filter(([, app]) => !app.removed)
      .map(([name, app]) => ({
        path: this.snapshotPath(name),
        text: JSON.stringify({ covers: this.generation, state: app.state, events: app.events }),
      }));
    await replaceFiles(this.fs, this.dir, files, this.concurrency);
    await this.startJournal(this.generation + 1);
  }

  /** Loads one app: its snapshot, then the journal's lines for it. Never writes. */
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
    await this.flushing;
    const loaded = new Map<string, StoredState<S, E>>();
    for (const [app, folded] of await foldFromDisk(this.dir, apps, this.eventLimit)) {
      if (!folded.removed) loaded.set(app, { state: folded.state as S, events: folded.events as E[] });
    }
    return loaded;
  }
}
