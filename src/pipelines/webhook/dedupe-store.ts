/**
 * The durable memory of deliveries already acted on, so a redelivery or the same push under a
 * new id starts no second run, even after a restart. Two keys per delivery: its delivery id,
 * and (source, ref, after). See docs/adr/0023-git-pipelines.md, "Deduplication is durable and
 * double".
 *
 * The file is append-only JSON lines, one record per accepted delivery, each appended and
 * fsync'd before the receiver answers 202. A crash mid-append leaves a torn last line, which
 * loading drops (that delivery was never acknowledged). The file is bounded: once it holds
 * twice `maxEntries` records it is rewritten, atomically, with the newest `maxEntries`.
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AviaryError } from '../../errors.js';
import {
  nodeStateFileSystem,
  writeFileAtomic,
  type StateFileSystem,
} from '../../rollout/state/state-files.js';
import type { Forge } from './forge.js';

/** Records kept after a compaction when no `maxEntries` is given. */
export const DEFAULT_DEDUPE_MAX_ENTRIES = 10_000;

/** The key of a delivery id: `${forge}\0${id}` (two fields, so never equal to an {@link eventKey}). */
export function deliveryKey(forge: Forge, deliveryId: string): string {
  return `${forge}\u0000${deliveryId}`;
}

/** The key of a push whatever its delivery id: `${source}\0${ref}\0${after}`. */
export function eventKey(source: string, ref: string, after: string): string {
  return `${source}\u0000${ref}\u0000${after}`;
}

/** Options of {@link DedupeStore.open}. */
export interface DedupeStoreOptions {
  /** The JSON-lines file; created (mode 0600, parent directories too) when missing. */
  readonly file: string;
  /** Records kept by a compaction; default {@link DEFAULT_DEDUPE_MAX_ENTRIES}. */
  readonly maxEntries?: number;
  /** The file-system seam; tests inject failures through it. */
  readonly fileSystem?: StateFileSystem;
}

/**
 * Keys held for a delivery being handled. `record` makes them durable; `release` gives them
 * up (the delivery was not acted on, so a redelivery should be looked at afresh).
 */
export interface DedupeClaim {
  /** Appends the keys and fsyncs the file. On failure the keys stay held in memory. */
  record(): Promise<void>;
  /** Frees keys that were never recorded. */
  release(): void;
}

/** A claim refused: `duplicate` is the first key already recorded or held. */
export interface DedupeDuplicate {
  readonly duplicate: string;
}

interface DedupeRecord {
  readonly keys: readonly string[];
  readonly at: string;
}

function isRecord(value: unknown): value is DedupeRecord {
  if (typeof value !== 'object' || value === null) return false;
  const keys = (value as { keys?: unknown }).keys;
  return Array.isArray(keys) && keys.every((key) => typeof key === 'string');
}

/** Parses the file's text; a torn last line is dropped, any other bad line is corruption. */
function parseRecords(file: string, text: string): { records: DedupeRecord[]; torn: boolean } {
  const lines = text.split('\n');
  const last = lines.pop() ?? '';
  const records: DedupeRecord[] = [];
  lines.forEach((line, index) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      value = undefined;
    }
    if (!isRecord(value))
      throw new AviaryError(
        'AVIARY_STATE_CORRUPT',
        `webhook dedupe file ${file}, line ${index + 1}: expected {"keys": [string, ...]}; remove the file to start afresh (replayed deliveries would run again)`,
      );
    records.push(value);
  });
  return { records, torn: last !== '' };
}

/** The durable set of seen delivery keys; one instance per file. */
export class DedupeStore {
  readonly #file: string;
  readonly #maxEntries: number;
  readonly #fs: StateFileSystem;
  #records: DedupeRecord[];
  /** Keys of `#records`. */
  readonly #recorded = new Set<string>();
  /** Keys claimed by deliveries in progress. */
  readonly #held = new Set<string>();
  /** The tail of the write chain: appends and compactions run one at a time, in order. */
  #writes: Promise<void> = Promise.resolve();
  /**
   * Set while an append is in progress and left set when it fails: a failed append may have
   * written part of a line, so the next write rewrites the file from the records first.
   */
  #rewriteFirst = false;

  private constructor(file: string, maxEntries: number, fs: StateFileSystem, records: DedupeRecord[]) {
    this.#file = file;
    this.#maxEntries = maxEntries;
    this.#fs = fs;
    this.#records = records;
    for (const record of records) for (const key of record.keys) this.#recorded.add(key);
  }

  /**
   * Loads `options.file` (a missing file is empty). A torn last line is dropped and the file
   * rewritten, so later appends start on a line of their own.
   * @throws AviaryError AVIARY_STATE_CORRUPT for a bad line that is not the last
   */
  static async open(options: DedupeStoreOptions): Promise<DedupeStore> {
    const maxEntries = options.maxEntries ?? DEFAULT_DEDUPE_MAX_ENTRIES;
    if (!Number.isInteger(maxEntries) || maxEntries < 1)
      throw new RangeError(`maxEntries: expected an integer >= 1, got ${maxEntries}`);
    const fs = options.fileSystem ?? nodeStateFileSystem;
    await fs.makeDirectory(dirname(options.file));
    let text = '';
    try {
      text = await readFile(options.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const { records, torn } = parseRecords(options.file, text);
    const store = new DedupeStore(options.file, maxEntries, fs, records);
    if (torn || records.length > maxEntries) await store.#compact();
    return store;
  }

  /** True when `key` is recorded or held by a delivery in progress. */
  has(key: string): boolean {
    return this.#recorded.has(key) || this.#held.has(key);
  }

  /** Records held in memory (at most twice `maxEntries`). */
  get size(): number {
    return this.#records.length;
  }

  /**
   * Holds `keys` for one delivery, or names the first one already recorded or held. Checking
   * and holding happen in one synchronous step, so two concurrent copies of a delivery
   * cannot both get a claim.
   */
  claim(keys: readonly string[]): DedupeClaim | DedupeDuplicate {
    const duplicate = keys.find((key) => this.has(key));
    if (duplicate !== undefined) return { duplicate };
    const held = [...new Set(keys)];
    for (const key of held) this.#held.add(key);
    let settled = false;
    return {
      record: async () => {
        if (settled) return;
        await this.#append({ keys: held, at: new Date().toISOString() });
        settled = true;
        for (const key of held) {
          this.#held.delete(key);
          this.#recorded.add(key);
        }
      },
      release: () => {
        if (settled) return;
        settled = true;
        for (const key of held) this.#held.delete(key);
      },
    };
  }

  /**
   * Records `keys` durably unless one of them is already known; resolves once fsync'd.
   * A failed write releases the keys and rejects.
   */
  async recordIfNew(
    keys: readonly string[],
  ): Promise<{ recorded: true } | ({ recorded: false } & DedupeDuplicate)> {
    const claim = this.claim(keys);
    if ('duplicate' in claim) return { recorded: false, duplicate: claim.duplicate };
    try {
      await claim.record();
    } catch (err) {
      claim.release();
      throw err;
    }
    return { recorded: true };
  }

  /** Waits for the writes in flight. */
  async close(): Promise<void> {
    await this.#writes.catch(() => undefined);
  }

  #enqueue(write: () => Promise<void>): Promise<void> {
    const next = this.#writes.catch(() => undefined).then(write);
    this.#writes = next;
    return next;
  }

  /**
   * Appends `record` durably. A compaction that fails is not the caller's failure (the
   * record is durable, and the file stays whole: writeFileAtomic renames or leaves it); the
   * next append tries it again. A failed append leaves the file to be rewritten first.
   */
  async #append(record: DedupeRecord): Promise<void> {
    await this.#enqueue(async () => {
      if (this.#rewriteFirst) await this.#compact();
      this.#rewriteFirst = true;
      await this.#fs.append(this.#file, `${JSON.stringify(record)}\n`);
      this.#rewriteFirst = false;
      this.#records.push(record);
      if (this.#records.length >= 2 * this.#maxEntries) await this.#compact().catch(() => undefined);
    });
  }

  /** Rewrites the file with the newest `maxEntries` records and forgets the older keys. */
  async #compact(): Promise<void> {
    const kept = this.#records.slice(-this.#maxEntries);
    await writeFileAtomic(this.#file, kept.map((record) => `${JSON.stringify(record)}\n`).join(''), this.#fs);
    const dropped = this.#records.slice(0, this.#records.length - kept.length);
    this.#records = kept;
    for (const record of dropped) for (const key of record.keys) this.#recorded.delete(key);
  }
}
