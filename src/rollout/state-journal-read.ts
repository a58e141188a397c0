/**
 * Reading the rollout state journal (ADR 0009): each app is its snapshot with the current
 * journal's lines for it applied, unless the snapshot already covers that journal's
 * generation. Reading never writes, so another process (a test, a CLI) may read a state
 * directory while its controller runs.
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { AviaryError } from '../errors.js';
import { assertAppName } from './state-store.js';

/** Name of the journal in the state directory. */
export const JOURNAL_FILE = 'journal.jsonl';
/** Format number in each journal's first line. */
export const JOURNAL_FORMAT = 1;

/** One app as folded from disk; `removed` when its last journal line removed it. */
export interface FoldedApp {
  state: unknown;
  events: unknown[];
  removed: boolean;
}

/** One journal line after the header. */
export interface JournalLine {
  readonly app: string;
  readonly state?: unknown;
  readonly events?: unknown[];
  readonly removed?: true;
}

interface Snapshot {
  readonly covers: number;
  readonly state: unknown;
  readonly events: unknown[];
}

function corrupt(path: string, what: string): AviaryError {
  return new AviaryError('AVIARY_STATE_CORRUPT', `${path}: ${what}`);
}

/** Keeps the last `limit` items of `list` in place. */
export function trimTo(list: unknown[], limit: number): void {
  if (list.length > limit) list.splice(0, list.length - limit);
}

/** The generation named by a journal's first line. */
export function journalGeneration(path: string, line: string): number {
  let header: unknown;
  try {
    header = JSON.parse(line);
  } catch {
    header = undefined;
  }
  const { journal, generation } = (header ?? {}) as { journal?: unknown; generation?: unknown };
  if (journal !== JOURNAL_FORMAT || typeof generation !== 'number' || !Number.isSafeInteger(generation))
    throw corrupt(
      path,
      `first line must be {"journal":${JOURNAL_FORMAT},"generation":N}, got ${line.slice(0, 80)}`,
    );
  return generation;
}

/** A journal line, or undefined for a torn one (only the last line can be: it is cut before the next append). */
export function parseJournalLine(line: string): JournalLine | undefined {
  if (line === '') return undefined;
  try {
    const entry = JSON.parse(line) as { app?: unknown };
    return typeof entry.app === 'string' ? (entry as JournalLine) : undefined;
  } catch {
    return undefined;
  }
}

/** The snapshot of `app` in `dir`, or undefined when it has none. */
export async function readSnapshot(dir: string, app: string): Promise<Snapshot | undefined> {
  const path = join(dir, `${assertAppName(app)}.json`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let snapshot: { covers?: unknown; state?: unknown; events?: unknown };
  try {
    snapshot = JSON.parse(text) as typeof snapshot;
  } catch (err) {
    throw corrupt(path, `not JSON: ${(err as Error).message}`);
  }
  if (typeof snapshot.covers !== 'number' || !Array.isArray(snapshot.events) || !('state' in snapshot)) {
    throw corrupt(
      path,
      'expected {covers, state, events}; state written by an older Aviary (events inside the document) is not read',
    );
  }
  return { covers: snapshot.covers, state: snapshot.state, events: snapshot.events as unknown[] };
}

/** Apps with a snapshot in `dir`. */
export async function snapshotApps(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir))
      .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
      .map((f) => f.slice(0, -5));
  } catch {
    return [];
  }
}

/**
 * Every app in `apps` (or every app with a snapshot or a journal line, for `'all'`), folded
 * from its snapshot and the journal. The journal is opened first, so a compaction running
 * meanwhile cannot hide its lines: a snapshot it rewrites covers the generation held open.
 */
export async function foldFromDisk(
  dir: string,
  apps: ReadonlySet<string> | 'all',
  eventLimit: number,
): Promise<Map<string, FoldedApp>> {
  const path = join(dir, JOURNAL_FILE);
  const stream = createReadStream(path, 'utf8');
  const missing = new Promise<boolean>((resolve) => {
    stream.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ENOENT'));
    stream.once('open', () => resolve(false));
  });
  const lines = createInterface({ input: stream, crlfDelay: Infinity })[Symbol.asyncIterator]();
  const noJournal = await missing;
  const header = noJournal ? undefined : await lines.next();
  const generation =
    header === undefined || header.done === true ? Infinity : journalGeneration(path, header.value);

  const folded = new Map<string, FoldedApp>();
  const covered = new Set<string>();
  for (const app of apps === 'all' ? await snapshotApps(dir) : apps) {
    const snapshot = await readSnapshot(dir, app);
    if (!snapshot) continue;
    folded.set(app, { state: snapshot.state, events: snapshot.events, removed: false });
    if (snapshot.covers >= generation) covered.add(app);
  }
  if (noJournal) return folded;
  for (let next = await lines.next(); next.done !== true; next = await lines.next()) {
    const entry = parseJournalLine(next.value);
    if (!entry || (apps !== 'all' && !apps.has(entry.app)) || covered.has(entry.app)) continue;
    if (entry.removed) {
      folded.set(entry.app, { state: undefined, events: [], removed: true });
      continue;
    }
    const before = folded.get(entry.app);
    const events = [...(before && !before.removed ? before.events : []), ...(entry.events ?? [])];
    trimTo(events, eventLimit);
    folded.set(entry.app, { state: entry.state, events, removed: false });
  }
  return folded;
}
