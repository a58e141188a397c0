/**
 * Durable per-app documents (the judge's runs): one JSON document per app, replaced
 * atomically (write a temporary file, fsync it, rename it over the old one, fsync the
 * directory), so a `kill -9` at any point leaves either the old document or the new one,
 * never a torn one. Saves are group-committed: the documents saved while a batch is being
 * written form the next batch, which shares one directory fsync. See
 * docs/adr/0006-controller-runtime.md. Rollout state uses the journal of ADR 0009
 * (`state-journal.ts`); both are built on the steps of `state-files.ts`.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AviaryError } from '../../errors.js';
import {
  assertAppName,
  durablePromise,
  GroupCommit,
  nodeStateFileSystem,
  replaceFiles,
  type StateFileSystem,
} from './state-files.js';

/** A document waiting to be written, with the saves that wait for it. */
interface PendingWrite {
  readonly path: string;
  text: string;
  digest: string;
  readonly durable: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/** Options of {@link StateStore}. */
export interface StateStoreOptions {
  /** File-system seam; default {@link nodeStateFileSystem}. */
  fs?: StateFileSystem;
  /** Temporary files written and fsync'd at once in a batch; default 16. */
  concurrency?: number;
}

/** Per-app JSON documents under `<stateDir>/rollouts/` (the judge passes `<stateDir>/judge`). */
export class StateStore<T> {
  private readonly dir: string;
  private readonly fs: StateFileSystem;
  private readonly concurrency: number;
  /**
   * The newest write per app, queued or done. A save of the text already written or queued
   * (an idle tick) is not written again: ADR 0006 budgets one fsync'd write per tick that
   * changed something. A digest, not the text, once written, so a store of many apps with
   * long event histories does not keep a second copy of every document.
   */
  private readonly latest = new Map<string, PendingWrite>();
  /** The next batch: per app only the newest document, so a superseded one is never written. */
  private readonly batches = new GroupCommit<PendingWrite>({
    write: async (batch) => {
      await this.commit([...batch.values()]);
      for (const write of batch.values()) write.text = '';
    },
    failed: (batch) => {
      // A failed write is not "already written": the next save of the same text tries again.
      for (const [app, write] of batch) if (this.latest.get(app) === write) this.latest.delete(app);
    },
  });
  /** The directory's creation, once started; reset when a batch fails. */
  private created: Promise<void> | undefined;

  constructor(stateDir: string, options: StateStoreOptions = {}) {
    this.dir = join(stateDir, 'rollouts');
    this.fs = options.fs ?? nodeStateFileSystem;
    this.concurrency = options.concurrency ?? 16;
  }

  private pathOf(app: string): string {
    return join(this.dir, `${assertAppName(app)}.json`);
  }

  /**
   * Saves the document of `app`; resolves once it, or a newer document of the same app, is
   * durable. An unchanged document is not written again. Rejects when the batch holding
   * it fails; the next save of the app writes again.
   */
  async save(app: string, document: T): Promise<void> {
    const path = this.pathOf(app);
    const text = JSON.stringify(document);
    const digest = createHash('sha256').update(text).digest('base64');
    const last = this.latest.get(app);
    if (last?.digest === digest) return last.durable;
    const queued = this.batches.queued(app);
    if (queued) {
      queued.text = text;
      queued.digest = digest;
      return queued.durable;
    }
    const { durable, resolve, reject } = durablePromise();
    const write: PendingWrite = { path, text, digest, durable, resolve, reject };
    this.batches.add(app, write);
    this.latest.set(app, write);
    return durable;
  }

  /**
   * Writes one batch, creating the directory on the first batch only (a `mkdir` per write
   * costs as much as the rename it precedes); a batch that finds it gone creates it again.
   */
  private async commit(batch: readonly PendingWrite[]): Promise<void> {
    this.created ??= this.fs.makeDirectory(this.dir);
    try {
      await this.created;
      await this.replaceAll(batch);
    } catch (err) {
      this.created = undefined;
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await this.fs.makeDirectory(this.dir);
      await this.replaceAll(batch);
    }
  }

  private async replaceAll(batch: readonly PendingWrite[]): Promise<void> {
    await replaceFiles(
      this.fs,
      this.dir,
      batch.map((write) => ({ path: write.path, text: write.text })),
      this.concurrency,
    );
  }

  /** Loads the document of `app`, or undefined when none was saved. */
  async load(app: string): Promise<T | undefined> {
    let text: string;
    try {
      text = await readFile(this.pathOf(app), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new AviaryError(
        'AVIARY_STATE_CORRUPT',
        `state of app ${app} in ${this.pathOf(app)} is not JSON: ${(err as Error).message}`,
      );
    }
  }

  /** Apps that have a saved document. */
  async apps(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
    } catch {
      return [];
    }
  }

  /** Forgets `app`, after any write of it still under way, so that write cannot bring it back. */
  async remove(app: string): Promise<void> {
    const path = this.pathOf(app);
    const last = this.latest.get(app);
    this.latest.delete(app);
    await last?.durable.catch(() => undefined);
    await this.fs.remove(path);
  }
}
