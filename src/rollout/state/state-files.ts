/**
 * The file-system steps every state file shares: a seam over them (tests count and fail
 * them), atomic and durable replacement of one file or a group of files (temporary file,
 * fsync, rename, one directory fsync), app names that cannot escape the state directory,
 * and the promise a durable write settles. Used by the per-app document store
 * (`state-store.ts`), the rollout state journal (`state-journal.ts`), gates and releases.
 * See docs/adr/0006-controller-runtime.md and docs/adr/0009-rollout-state-journal.md.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AviaryError } from '../../errors.js';

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

/**
 * Open flags of the two writes. Neither follows a symbolic link at `path` (O_NOFOLLOW fails
 * with ELOOP), so a link planted in the state directory cannot redirect a write to a file
 * elsewhere. Renames replace a link at the destination rather than follow it (rename(2)).
 * See docs/security.md.
 */
const WRITE_FLAGS = {
  create: fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC | fsConstants.O_NOFOLLOW,
  append: fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_APPEND | fsConstants.O_NOFOLLOW,
} as const;

/** Writes `data` to `path` opened with `flags` (created 0600 when missing), then fsyncs it. */
async function writeSynced(path: string, flags: number, data: string): Promise<void> {
  const file = await open(path, flags, 0o600);
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
}

/** The real file system, through `node:fs/promises`. */
export const nodeStateFileSystem: StateFileSystem = {
  writeDurably: (path, data) => writeSynced(path, WRITE_FLAGS.create, data),
  append: (path, data) => writeSynced(path, WRITE_FLAGS.append, data),
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

/** An item waiting in a {@link GroupCommit}, settled once its batch is durable or has failed. */
export interface Queued {
  readonly durable: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/** What a {@link GroupCommit} does with its batches. */
export interface GroupCommitSteps<T extends Queued> {
  /** Makes one batch durable; a rejection fails every item in it. */
  write(batch: ReadonlyMap<string, T>): Promise<void>;
  /** Called with a batch that failed, before its items are rejected. */
  failed?(batch: ReadonlyMap<string, T>, err: unknown): void;
  /** Called after each batch, written or failed. */
  after?(): void;
}

/**
 * Group commit: the items queued while a batch is being written form the next batch, one
 * per key (a caller merges a newer save into the item already queued for its key). Batches
 * run one at a time, which keeps each key's writes in order.
 */
export class GroupCommit<T extends Queued> {
  private pending = new Map<string, T>();
  private flushing: Promise<void> | undefined;

  constructor(private readonly steps: GroupCommitSteps<T>) {}

  /** The item queued for `key` and not yet in a batch. */
  queued(key: string): T | undefined {
    return this.pending.get(key);
  }

  /** Queues `item` for `key`; it is written with the next batch. */
  add(key: string, item: T): void {
    this.pending.set(key, item);
    // A microtask later, so the saves of the same turn of the event loop join the first batch.
    this.flushing ??= Promise.resolve().then(() => this.flush());
  }

  /** The running flush loop, if any. */
  get running(): Promise<void> | undefined {
    return this.flushing;
  }

  private async flush(): Promise<void> {
    while (this.pending.size > 0) {
      const batch = this.pending;
      this.pending = new Map();
      try {
        await this.steps.write(batch);
        for (const item of batch.values()) item.resolve();
      } catch (err) {
        this.steps.failed?.(batch, err);
        for (const item of batch.values()) item.reject(err);
      }
      this.steps.after?.();
    }
    this.flushing = undefined;
  }
}
