/**
 * Shared set-up of the state journal's test files: a temporary directory per test, journals
 * whose background compactions end before it is removed, and readers of the journal files.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { StateJournal, type StateJournalOptions } from './state-journal.js';

/** The state document of the journal tests. */
export interface Doc {
  readonly n: number;
}

/** The journal files of `dir`, oldest first. */
export const journals = async (dir: string): Promise<string[]> =>
  (await readdir(dir))
    .filter((f) => /^journal\.\d+\.jsonl$/.test(f))
    .sort((a, b) => parseInt(a.slice(8), 10) - parseInt(b.slice(8), 10));

/** The non-empty lines of `path`. */
export const linesOf = async (path: string): Promise<string[]> =>
  (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '');

/** The newest journal of `dir`: the one appends go to. */
export const newestJournal = async (dir: string): Promise<string> =>
  join(dir, (await journals(dir)).at(-1) ?? '');

/** What each test of a journal file gets (read inside the test: set before each). */
export interface JournalFixture {
  /** This test's temporary directory. */
  readonly dir: string;
  /** A journal at `at`, settled before the directory is removed. */
  journal<S, E>(at: string, options?: StateJournalOptions): StateJournal<S, E>;
}

/** Registers the before/after hooks of a describe block and answers its fixture. */
export function useJournalFixture(): JournalFixture {
  let dir = '';
  /** Every journal a test opened: their background compactions end before the directory goes. */
  let opened: StateJournal<unknown, unknown>[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aviary-journal-'));
    opened = [];
  });
  afterEach(async () => {
    await Promise.all(opened.map((store) => store.settled()));
    await rm(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    journal<S, E>(at: string, options: StateJournalOptions = {}): StateJournal<S, E> {
      const store = new StateJournal<S, E>(at, options);
      opened.push(store);
      return store;
    },
  };
}
