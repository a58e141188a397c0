/**
 * Durable per-app documents (the judge's runs) and the file-system steps every state file
 * shares: one JSON document per app, replaced
 * atomically (write a temporary file, fsync it, rename it over the old one, fsync the
 * directory), so a `kill -9` at any point leaves either the old document or the new one,
 * never a torn one. Saves are group-committed: the documents saved while a batch is being
 * written form the next batch, which shares one directory fsync. See
 * docs/adr/0006-controller-runtime.md. Rollout state uses the journal of ADR 0009
 * (`state-journal.ts`), built on the same steps.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AviaryError } from '../errors.js';

/** The file-system steps of an atomic replace; a seam so tests can count and fail them. */
export interface StateFileSystem {
  /** Creates `path` (mode 0600) holding `data` and fsyncs it. */
  writeDurably(path: string, data: string): Promise<void>;
  /** Appends `data` to `path` (created with mode 0600 when missing) and fsyncs it. */
  append(path: string, data: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Removes `path`; a missing file is not an error. */
  remove(path: string): Promise<void>;
  /** Fsyncs the directory so the renames in it survive a crash. */
  syncDirectory(dir: string): Promise<void>;
  /** Creates `dir` and its parents when missing. */
  makeDirectory(dir: string): Promise<void>;
}

/** The real file system, through `node:fs/promises`. */
export const nodeStateFileSystem: StateFileSystem = {
  async writeDurably(path, data) {
    const file = await open(path, 'w', 0o600);
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
  },
  async append(path, data) {
    const file = await open(path, 'a', 0o600);
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
  },
  rename,
  async remove(path) {
    await rm(path, { force: true });
  },
  async syncDirectory(dir) {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  async makeDirectory(dir) {
    await mkdir(dir, { recursive: true });
  },
};

/** `app`, when it is an RFC 1123 label (so it cannot name a path outside the state directory). */
export function assertAppName(app: string): string {
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(app)) {
    throw new AviaryError(
      'AVIARY_STATE_INVALID_NAME',
      `app ${JSON.stringify(app)}: expected an RFC 1123 label`,
    );
  }
  return app;
}

function temporaryPathIn(dir: string): string {
  return join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
}

/** Writes `data` to `path` atomically and durably. */
export async function writeFileAtomic(
  path: string,
  data: string,
  fs: StateFileSystem = nodeStateFileSystem,
): Promise<void> {
  const dir = join(path, '..');
  const tmp = temporaryPathIn(dir);
  try {
    await fs.writeDurably(tmp, data);
    await fs.rename(tmp, path);
  } catch (err) {
    await fs.remove(tmp);
    throw err;
  }
  await fs.syncDirectory(dir);
}

/** Runs `work` over `items` with at most `limit` in flight; rejects with the first failure once all have settled. */
async function forEachBounded<I>(
  items: readonly I[],
  limit: number,
  work: (item: I) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    for (let item = items[next++]; item !== undefined; item = items[next++]) {
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}

/**
 * Group commit of whole files in `dir`: every temporary file is written and fsync'd before
 * any rename, and one directory fsync covers all renames. Each rename is still atomic on
 * its own (POSIX rename(2)), so a crash leaves every file with its old or its new content.
 */
export async function replaceFiles(
  fs: StateFileSystem,
  dir: string,
  files: readonly { readonly path: string; readonly text: string }[],
  concurrency: number,
): Promise<void> {
  const staged = files.map((file) => ({ file, tmp: temporaryPathIn(dir) }));
  try {
    await forEachBounded(staged, concurrency, ({ file, tmp }) => fs.writeDurably(tmp, file.text));
    await forEachBounded(staged, concurrency, ({ file, tmp }) => fs.rename(tmp, file.path));
  } catch (err) {
    await forEachBounded(staged, concurrency, ({ tmp }) => fs.remove(tmp));
    throw err;
  }
  await fs.syncDirectory(dir);
}

/**
 * A promise that a write resolves once durable, with its settle functions. Every caller of
 * a save gets it and sees a failure; the catch here keeps an unawaited one from crashing
 * the process.
 */
export function durablePromise(): {
  durable: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
} {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const durable = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  durable.catch(() => undefined);
  return { durable, resolve, reject };
}

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
  private pending = new Map<string, PendingWrite>();
  /** The running flush loop, if any; batches run one at a time, which keeps per-app order. */
  private flushing: Promise<void> | undefined;
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
    const queued = this.pending.get(app);
    if (queued) {
      queued.text = text;
      queued.digest = digest;
      return queued.durable;
    }
    const { durable, resolve, reject } = durablePromise();
    const write: PendingWrite = { path, text, digest, durable, resolve, reject };
    this.pending.set(app, write);
    this.latest.set(app, write);
    // A microtask later, so the saves of the same turn of the event loop join the first batch.
    this.flushing ??= Promise.resolve().then(() => this.flush());
    return durable;
  }

  private async flush(): Promise<void> {
    while (this.pending.size > 0) {
      const batch = this.pending;
      this.pending = new Map();
      try {
        await this.commit([...batch.values()]);
        for (const write of batch.values()) {
          write.text = '';
          write.resolve();
        }
      } catch (err) {
        for (const [app, write] of batch) {
          // A failed write is not "already written": the next save of the same text tries again.
          if (this.latest.get(app) === write) this.latest.delete(app);
          write.reject(err);
        }
      }
    }
    this.flushing = undefined;
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
