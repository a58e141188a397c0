/**
 * The state journal's delta lines (ADR 0010): what a line carries, what a restart folds
 * them to, and the cases where a delta must not be written or read.
 */
import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateJournal, type StateJournalOptions } from './state-journal.js';
import { SpyFileSystem } from '../../../test/support/spy-file-system.js';

interface Doc {
  readonly status: { readonly phase: string; readonly weight: number; readonly note?: string };
  readonly specs: Readonly<Record<string, { readonly command: string }>>;
}

const doc = (phase: string, weight: number, extra: Partial<Doc['status']> = {}): Doc => ({
  status: { phase, weight, ...extra },
  specs: { r1: { command: 'node server.js' } },
});

/** The lines after the header of every journal of `dir`, oldest journal first. */
async function journalLines(dir: string): Promise<Record<string, unknown>[]> {
  const names = (await readdir(dir))
    .filter((f) => /^journal\.\d+\.jsonl$/.test(f))
    .sort((a, b) => parseInt(a.slice(8), 10) - parseInt(b.slice(8), 10));
  const lines: Record<string, unknown>[] = [];
  for (const name of names) {
    const text = await readFile(join(dir, name), 'utf8');
    for (const line of text.split('\n').slice(1))
      if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
  }
  return lines;
}

describe('StateJournal delta lines', () => {
  let dir: string;
  let opened: StateJournal<unknown, unknown>[];
  function journal<S, E>(options: StateJournalOptions = {}): StateJournal<S, E> {
    const store = new StateJournal<S, E>(dir, options);
    opened.push(store);
    return store;
  }
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aviary-journal-delta-'));
    opened = [];
  });
  afterEach(async () => {
    await Promise.all(opened.map((store) => store.settled()));
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the whole state first, then only what changed, and a restart folds them back', async () => {
    const store = journal<Doc, string>();
    await store.save('shop', doc('Progressing', 10, { note: 'started' }), ['a']);
    await store.save('shop', doc('Progressing', 20, { note: 'started' }));
    await store.save('shop', doc('Succeeded', 0), ['b']);
    const lines = await journalLines(dir);
    expect(lines).toEqual([
      { app: 'shop', state: doc('Progressing', 10, { note: 'started' }), events: ['a'] },
      { app: 'shop', delta: [[['status', 'weight'], 20]] },
      {
        app: 'shop',
        delta: [[['status', 'note']], [['status', 'phase'], 'Succeeded'], [['status', 'weight'], 0]],
        events: ['b'],
      },
    ]);
    expect(await journal<Doc, string>().load('shop')).toEqual({
      state: doc('Succeeded', 0),
      events: ['a', 'b'],
    });
  });

  it('folds deltas across sealed journals into snapshots, and goes on from them', async () => {
    const store = journal<Doc, number>({ compactAtBytes: 300, compactionChunk: 1 });
    for (let n = 0; n < 60; n++) await store.save(n % 2 ? 'cart' : 'shop', doc(`p${n % 3}`, n), [n]);
    await store.settled();
    expect((await readdir(dir)).filter((f) => f.endsWith('.json')).sort()).toEqual([
      'cart.json',
      'shop.json',
    ]);
    const restarted = journal<Doc, number>();
    expect((await restarted.load('shop'))?.state).toEqual(doc('p1', 58));
    expect((await restarted.load('cart'))?.state).toEqual(doc('p2', 59));
  });

  it('writes the whole state again after a failed append, whose lines a reader may still find', async () => {
    const fs = new SpyFileSystem();
    const store = journal<Doc, string>({ fs });
    await store.save('shop', doc('Progressing', 10), ['a']);
    fs.failWith = (op) => (op === 'append' ? new Error('EIO on append') : undefined);
    await expect(store.save('shop', doc('Progressing', 20, { note: 'lost' }), ['b'])).rejects.toThrow('EIO');
    fs.failWith = undefined;
    // The failed append got one whole line to the disk before the error.
    const first = (await readdir(dir)).find((f) => f.startsWith('journal.'))!;
    await appendFile(
      join(dir, first),
      `${JSON.stringify({ app: 'shop', delta: [[['status', 'note'], 'lost']] })}\n`,
    );
    await store.save('shop', doc('Progressing', 30), ['c']);
    expect((await journalLines(dir)).at(-1)).toMatchObject({ app: 'shop', state: doc('Progressing', 30) });
    expect((await journal<Doc, string>().load('shop'))?.state).toEqual(doc('Progressing', 30));
  });

  it('writes the whole state again after a removal', async () => {
    const store = journal<Doc, string>();
    await store.save('shop', doc('Progressing', 10));
    await store.remove('shop');
    await store.save('shop', doc('Progressing', 20));
    expect((await journalLines(dir)).at(-1)).toEqual({ app: 'shop', state: doc('Progressing', 20) });
  });

  it('refuses a delta with no state before it, naming the journal and the app', async () => {
    await writeFile(
      join(dir, 'journal.1.jsonl'),
      `{"journal":2,"generation":1}\n${JSON.stringify({ app: 'shop', delta: [[['status', 'weight'], 5]] })}\n`,
    );
    await expect(journal().load('shop')).rejects.toThrow(
      /journal\.1\.jsonl: app shop: a line changes a state that no earlier line holds/,
    );
  });

  it('refuses a malformed delta, naming the journal and the app', async () => {
    const lines = [
      '{"journal":2,"generation":1}',
      JSON.stringify({ app: 'shop', state: doc('Progressing', 1) }),
      JSON.stringify({ app: 'shop', delta: { status: 1 } }),
    ];
    await writeFile(join(dir, 'journal.1.jsonl'), `${lines.join('\n')}\n`);
    await expect(journal().load('shop')).rejects.toThrow(
      /journal\.1\.jsonl: app shop: expected delta to be a list/,
    );
  });

  it('still reads a journal of format 1 (whole states only)', async () => {
    const lines = [
      '{"journal":1,"generation":4}',
      JSON.stringify({ app: 'shop', state: doc('Succeeded', 0), events: ['x'] }),
    ];
    await writeFile(join(dir, 'journal.4.jsonl'), `${lines.join('\n')}\n`);
    expect(await journal().load('shop')).toEqual({ state: doc('Succeeded', 0), events: ['x'] });
  });
});
