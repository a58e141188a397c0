/**
 * Durable release state: one JSON document per app under `<stateDir>/releases/`, written
 * atomically like rollout state. After a restart it tells the runtime which apps the
 * release manager owns (so the controller leaves them alone), what to run, and which
 * removed versions were still draining when the previous run ended.
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Release } from '../../config/release-schema.js';
import { writeFileAtomic } from '../state/state-files.js';

/** What is stored per app. */
export interface PersistedRelease {
  readonly version: 1;
  readonly app: string;
  readonly release: Release;
  /** Removed entries not yet stopped. */
  readonly draining: readonly string[];
  readonly appliedAt: number;
}

function isPersisted(value: unknown): value is PersistedRelease {
  if (typeof value !== 'object' || value === null) return false;
  const doc = value as Partial<PersistedRelease>;
  return (
    doc.version === 1 &&
    typeof doc.app === 'string' &&
    Array.isArray(doc.release?.entries) &&
    Array.isArray(doc.draining)
  );
}

/** Per-app release documents. */
export class ReleaseStore {
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'releases');
  }

  /** Saves the document of its app (the app name was validated as an RFC 1123 label). */
  async save(document: PersistedRelease): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(join(this.dir, `${document.app}.json`), JSON.stringify(document));
  }

  /** Every stored document; unreadable ones are reported through `onError` and skipped. */
  async loadAll(onError: (file: string, message: string) => void): Promise<PersistedRelease[]> {
    let files: string[];
    try {
      files = (await readdir(this.dir)).filter((file) => file.endsWith('.json'));
    } catch {
      return [];
    }
    const documents: PersistedRelease[] = [];
    for (const file of files.sort()) {
      try {
        const value = JSON.parse(await readFile(join(this.dir, file), 'utf8')) as unknown;
        if (isPersisted(value)) documents.push(value);
        else onError(file, 'not a release state document (version 1)');
      } catch (err) {
        onError(file, (err as Error).message);
      }
    }
    return documents;
  }
}
