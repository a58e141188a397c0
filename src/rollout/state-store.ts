/**
 * Durable rollout state: one JSON document per app in the state directory, replaced
 * atomically (write a temporary file, fsync it, rename it over the old one, fsync the
 * directory), so a `kill -9` at any point leaves either the old document or the new one,
 * never a torn one. See docs/adr/0006-controller-runtime.md.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AviaryError } from '../errors.js';

/** Writes `data` to `path` atomically and durably. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const dir = join(path, '..');
  const tmp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(tmp, 'w', 0o600);
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Per-app JSON documents under `<stateDir>/rollouts/`. */
export class StateStore<T> {
  private readonly dir: string;
  /**
   * The last write queued per app: a digest of its text and its completion. Writes are
   * serialised per app so an older document never lands after a newer one, and a save of
   * the text already written (an idle tick) is not written again: ADR 0006 budgets one
   * fsync'd write per tick that changed something. A digest, not the text, so a store of
   * many apps with long event histories does not keep a second copy of every document.
   */
  private readonly latest = new Map<string, { digest: string; written: Promise<void> }>();
  /** The directory's creation, once started; reset when a write fails. */
  private created: Promise<unknown> | undefined;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'rollouts');
  }

  private pathOf(app: string): string {
    if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(app)) {
      throw new AviaryError(
        'AVIARY_STATE_INVALID_NAME',
        `app ${JSON.stringify(app)}: expected an RFC 1123 label`,
      );
    }
    return join(this.dir, `${app}.json`);
  }

  /** Saves the document of `app`; resolves once it is durable. An unchanged document is not written again. */
  async save(app: string, document: T): Promise<void> {
    const path = this.pathOf(app);
    const text = JSON.stringify(document);
    const digest = createHash('sha256').update(text).digest('base64');
    const last = this.latest.get(app);
    if (last?.digest === digest) return last.written;
    const written = (last?.written.catch(() => undefined) ?? Promise.resolve()).then(() =>
      this.write(path, text),
    );
    const entry = { digest, written };
    this.latest.set(app, entry);
    // A failed write is not "already written": the next save of the same text tries again.
    written.catch(() => {
      if (this.latest.get(app) === entry) this.latest.delete(app);
    });
    return written;
  }

  /**
   * Writes into the directory, creating it on the first write only (a `mkdir` per write
   * costs as much as the rename it precedes); a write that finds it gone creates it again.
   */
  private async write(path: string, text: string): Promise<void> {
    this.created ??= mkdir(this.dir, { recursive: true });
    try {
      await this.created;
      await writeFileAtomic(path, text);
    } catch (err) {
      this.created = undefined;
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdir(this.dir, { recursive: true });
      await writeFileAtomic(path, text);
    }
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

  /** Forgets `app`. */
  async remove(app: string): Promise<void> {
    this.latest.delete(app);
    await rm(this.pathOf(app), { force: true });
  }
}
