/**
 * Reading the rollout state journal (ADR 0009): each app is its snapshot with the current
 * journal's lines for it applied, unless the snapshot already covers that journal's
 * generation. Reading never writes, so another process (a test, a CLI) may read a state
 * directory while its controller runs.
 */
import { open, readdir, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { AviaryError } from '../../errors.js';
import { applyJsonDelta, isJsonDelta, isJsonObject } from './json-delta.js';
import { assertAppName } from './state-files.js';

/** Path of the journal of `generation` in `dir`: `journal.<generation>.jsonl`. */
export function journalPath(dir: string, generation: number): string {
  return join(dir, `journal.${generation}.jsonl`);
}

/** Generations of the journals in `dir`, oldest first. */
export async function journalGenerations(dir: string): Promise<number[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  return names
    .map((name) => /^journal\.(\d+)\.jsonl$/.exec(name)?.[1])
    .filter((g): g is string => g !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** The app a journal line is about, read off its start without parsing it (`{"app":"name",...`). */
export function appOfLine(line: string): string | undefined {
  if (!line.startsWith('{"app":"')) return undefined;
  const end = line.indexOf('"', 8);
  return end === -1 ? undefined : line.slice(8, end);
}
/**
 * Format number in each journal's first line. 2 added delta lines (ADR 0010); a journal
 * of format 1 (whole states only) is still read.
 */
export const JOURNAL_FORMAT = 2;
const READABLE_FORMATS: readonly unknown[] = [1, 2];

/** One app as folded from disk; `removed` when its last journal line removed it. */
export interface FoldedApp {
  state: unknown;
  events: unknown[];
  removed: boolean;
}

/**
 * One journal line after the header: a removal, or the app's whole state or what changed
 * in it since its previous line (`delta`, ADR 0010), or neither, with the new events.
 */
export interface JournalLine {
  readonly app: string;
  readonly state?: unknown;
  readonly delta?: unknown;
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

/** Checks that `line`, the first line of the journal at `path`, names `generation`. */
export function assertJournalHeader(path: string, line: string, generation: number): void {
  let header: unknown;
  try {
    header = JSON.parse(line);
  } catch {
    header = undefined;
  }
  const { journal, generation: named } = (header ?? {}) as { journal?: unknown; generation?: unknown };
  if (!READABLE_FORMATS.includes(journal) || named !== generation)
    throw corrupt(
      path,
      `first line must be {"journal":${JOURNAL_FORMAT},"generation":${generation}} (format 1 is read too), got ${line.slice(0, 80)}`,
    );
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

/**
 * `app` after one more journal line of the journal at `path` (a removal, or a state or a
 * delta with new events). A delta is applied in place to the folded state, which the fold owns.
 * @throws AviaryError `AVIARY_STATE_CORRUPT` naming the file and app for a delta with no
 * state before it or one that does not fit it.
 */
export function applyLine(
  app: FoldedApp | undefined,
  entry: JournalLine,
  eventLimit: number,
  path: string,
): FoldedApp {
  if (entry.removed) return { state: undefined, events: [], removed: true };
  const live = app && !app.removed ? app : undefined;
  let state: unknown;
  if ('state' in entry) state = entry.state;
  else {
    if (!live) throw corrupt(path, `app ${entry.app}: a line changes a state that no earlier line holds`);
    state = live.state;
    if (entry.delta !== undefined) applyDelta(path, entry.app, state, entry.delta);
  }
  const events = live ? live.events : [];
  events.push(...(entry.events ?? []));
  trimTo(events, eventLimit);
  return { state, events, removed: false };
}

function applyDelta(path: string, app: string, state: unknown, delta: unknown): void {
  if (!isJsonDelta(delta))
    throw corrupt(path, `app ${app}: expected delta to be a list of [path, value?] changes`);
  if (!isJsonObject(state))
    throw corrupt(path, `app ${app}: a delta line follows a state that is not an object`);
  try {
    applyJsonDelta(state, delta);
  } catch (err) {
    throw corrupt(path, `app ${app}: ${(err as Error).message}`);
  }
}

/** Path of the snapshot of `app` in `dir`: `<app>.json`. */
export function snapshotPath(dir: string, app: string): string {
  return join(dir, `${assertAppName(app)}.json`);
}

/** The snapshot of `app` in `dir`, or undefined when it has none. */
export async function readSnapshot(dir: string, app: string): Promise<Snapshot | undefined> {
  const path = snapshotPath(dir, app);
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

/** The highest generation any snapshot in `dir` covers; 0 when there is none. */
export async function newestSnapshotGeneration(dir: string): Promise<number> {
  let newest = 0;
  for (const app of await snapshotApps(dir)) {
    const snapshot = await readSnapshot(dir, app);
    if (snapshot) newest = Math.max(newest, snapshot.covers);
  }
  return newest;
}

/** Apps with a snapshot in `dir`. */
async function snapshotApps(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir))
      .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
      .map((f) => f.slice(0, -5));
  } catch {
    return [];
  }
}

/** Told of a journal whose last line is torn: its path and the bytes of that line. */
export type TornTailListener = (path: string, bytes: number) => void;

/**
 * Every app in `apps` (or every app with a snapshot or a journal line, for `'all'`), folded
 * from its snapshot and the journals up to generation `upTo`. The journals are opened
 * before any snapshot is read, so a compaction running meanwhile cannot hide lines: a
 * snapshot it rewrote covers the generation, and a journal it deleted is still open here.
 *
 * A line is whole only with its newline: a last line without one is torn (a crash cut the
 * append, which was never acknowledged) and is skipped, as compaction skips it
 * (`state-journal-index.ts`), so a state read at a restart is the state the snapshots keep.
 * Each journal is read up to its size when opened, so an append under way is not read half.
 * `onTornTail` is told of each journal whose last line was skipped.
 */
export async function foldFromDisk(
  dir: string,
  apps: ReadonlySet<string> | 'all',
  eventLimit: number,
  upTo = Infinity,
  onTornTail?: TornTailListener,
): Promise<Map<string, FoldedApp>> {
  const journals: { generation: number; handle: FileHandle }[] = [];
  try {
    for (const generation of await journalGenerations(dir)) {
      if (generation > upTo) continue;
      try {
        journals.push({ generation, handle: await open(journalPath(dir, generation), 'r') });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    const folded = new Map<string, FoldedApp>();
    const covers = new Map<string, number>();
    for (const app of apps === 'all' ? await snapshotApps(dir) : apps) {
      const snapshot = await readSnapshot(dir, app);
      if (!snapshot) continue;
      folded.set(app, { state: snapshot.state, events: snapshot.events, removed: false });
      covers.set(app, snapshot.covers);
    }
    for (const { generation, handle } of journals) {
      const path = journalPath(dir, generation);
      const { size } = await handle.stat();
      if (size === 0) continue;
      const lastByte = Buffer.alloc(1);
      await handle.read(lastByte, 0, 1, size - 1);
      const lines = createInterface({
        input: handle.createReadStream({ encoding: 'utf8', autoClose: false, start: 0, end: size - 1 }),
        crlfDelay: Infinity,
      });
      let header = true;
      const take = (line: string): void => {
        if (header) {
          assertJournalHeader(path, line, generation);
          header = false;
          return;
        }
        const app = appOfLine(line);
        if (app === undefined || (apps !== 'all' && !apps.has(app)) || (covers.get(app) ?? -1) >= generation)
          return;
        const entry = parseJournalLine(line);
        if (entry) folded.set(app, applyLine(folded.get(app), entry, eventLimit, path));
      };
      // One line behind: the last one is taken only if the file ends with its newline.
      let previous: string | undefined;
      for await (const line of lines) {
        if (previous !== undefined) take(previous);
        previous = line;
      }
      if (previous === undefined) continue;
      if (lastByte[0] === 0x0a) take(previous);
      else onTornTail?.(path, Buffer.byteLength(previous));
    }
    return folded;
  } finally {
    await Promise.all(journals.map(({ handle }) => handle.close()));
  }
}
