/**
 * Durable rollout state: one JSON document per app in the state directory, replaced
 * atomically (write a temporary file, fsync it, rename it over the old one, fsync the
 * directory), so a `kill -9` at any point leaves either the old document or the new one,
 * never a torn one. See docs/adr/0006-controller-runtime.md.
 */
import { randomBytes } from 'node:crypto';
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
  /** Serialises writes per app so an older document never lands after a newer one. */
  private readonly queues = new Map<string, Promise<void>>();

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

  /** Saves the document of `app`. */
  async save(app: string, document: T): Promise<void> {
    const path = this.pathOf(app);
    const text = JSON.stringify(document);
    const previous = this.queues.get(app) ?? Promise.resolve();
    const next = previous.then(async () => {
      await mkdir(this.dir, { recursive: true });
      await writeFileAtomic(path, text);
    });
    this.queues.set(
      app,
      next.catch(() => undefined),
    );
    return next;
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
    await rm(this.pathOf(app), { force: true });
  }
}
