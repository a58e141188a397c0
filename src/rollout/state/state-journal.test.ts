import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { nodeStateFileSystem, type StateFileSystem } from './state-files.js';
import { journals, useJournalFixture, type Doc } from './state-journal-test-support.js';
import { SpyFileSystem } from '../../../test/support/spy-file-system.js';

describe('StateJournal', () => {
  const fixture = useJournalFixture();
  const journal = fixture.journal.bind(fixture);
  let dir: string;
  beforeEach(() => {
    dir = fixture.dir;
  });

  it('round-trips state and events, lists apps and forgets a removed one', async () => {
    const store = journal<Doc, string>(dir);
    expect(await store.load('shop')).toBeUndefined();
    await store.save('shop', { n: 1 }, ['a']);
    await store.save('shop', { n: 2 }, ['b', 'c']);
    await store.save('cart', { n: 7 });
    expect(await store.load('shop')).toEqual({ state: { n: 2 }, events: ['a', 'b', 'c'] });
    expect((await store.apps()).sort()).toEqual(['cart', 'shop']);
    await store.remove('cart');
    expect(await store.apps()).toEqual(['shop']);
    // Another instance (a restart) reads the same.
    const again = journal<Doc, string>(dir);
    expect(await again.loadAll()).toEqual(new Map([['shop', { state: { n: 2 }, events: ['a', 'b', 'c'] }]]));
  });

  it('writes one journal append per batch, whatever the number of apps, and nothing for an idle save', async () => {
    const fs = new SpyFileSystem();
    const store = journal<Doc, string>(dir, { fs });
    const apps = Array.from({ length: 100 }, (_, i) => `app-${i}`);
    await Promise.all(apps.map((app) => store.save(app, { n: 1 }, [`started ${app}`])));
    expect(fs.count('append')).toBe(1);
    expect(fs.count('writeDurably')).toBe(1); // the new journal's header
    await Promise.all(apps.map((app) => store.save(app, { n: 1 })));
    expect(fs.count('append')).toBe(1);
    await store.save('app-3', { n: 1 }, ['an event with the same state']);
    expect(fs.count('append')).toBe(2);
    expect((await store.load('app-3'))?.events).toEqual(['started app-3', 'an event with the same state']);
  });

  it('coalesces saves that arrive during a write: the newest state, every event in order', async () => {
    const fs = new SpyFileSystem();
    let open!: () => void;
    const store = journal<Doc, number>(dir, { fs });
    await store.save('shop', { n: 0 }, [0]);
    fs.gateAppends = new Promise<void>((resolve) => (open = resolve));
    const first = store.save('shop', { n: 1 }, [1]);
    while (fs.inFlight.get('append') !== 1) await new Promise((resolve) => setImmediate(resolve));
    const saves = Array.from({ length: 19 }, (_, i) => store.save('shop', { n: i + 2 }, [i + 2]));
    open();
    await first;
    await Promise.all(saves);
    // The save held at the disk is one batch; the 19 that came meanwhile, one more.
    expect(fs.count('append')).toBe(3);
    expect(await store.load('shop')).toEqual({
      state: { n: 20 },
      events: Array.from({ length: 21 }, (_, i) => i),
    });
  });

  it('keeps the newest events up to the limit, across compactions and restarts', async () => {
    const store = journal<Doc, number>(dir, { eventLimit: 10, compactAtBytes: 2_000, compactionChunk: 1 });
    for (let n = 0; n < 200; n++) await store.save(n % 2 === 0 ? 'shop' : 'cart', { n }, [n]);
    const evens = Array.from({ length: 10 }, (_, i) => 180 + 2 * i);
    expect(await store.load('shop')).toEqual({ state: { n: 198 }, events: evens });
    await store.settled();
    // Every sealed journal was folded and deleted; only the one appends go to is left.
    const left = await journals(dir);
    expect(left).toHaveLength(1);
    const generation = parseInt(left[0]!.slice(8), 10);
    expect(generation).toBeGreaterThan(2);
    const snapshot = JSON.parse(await readFile(join(dir, 'shop.json'), 'utf8')) as { covers: number };
    expect(snapshot.covers).toBeLessThan(generation);
    expect(snapshot.covers).toBeGreaterThan(1);
    expect((await readdir(dir)).filter((f) => !f.startsWith('journal.')).sort()).toEqual([
      'cart.json',
      'shop.json',
    ]);
    const restarted = journal<Doc, number>(dir, { eventLimit: 10 });
    expect(await restarted.load('cart')).toEqual({
      state: { n: 199 },
      events: evens.map((n) => n + 1),
    });
  });

  it('writes a fold in steps bounded by bytes as well as apps, so long histories do not pile up', async () => {
    const fold = async (compactionChunkBytes: number): Promise<number> => {
      const fs = new SpyFileSystem();
      const store = journal<Doc, string>(join(dir, String(compactionChunkBytes)), {
        fs,
        compactAtBytes: 6_000,
        compactionChunkBytes,
      });
      // Six apps with ~1 kB of events each fill the first journal; the next save seals it.
      for (let n = 0; n < 6; n++) await store.save(`app-${n}`, { n }, ['x'.repeat(1_000)]);
      await store.save('app-0', { n: 7 });
      await store.settled();
      return fs.count('syncDirectory');
    };
    const oneStep = await fold(1024 * 1024);
    // 2 kB per step: two snapshots each, so three steps instead of one.
    expect((await fold(2_000)) - oneStep).toBe(2);
  });

  it('folds a sealed journal while saves go on, and a reader never sees a gap', async () => {
    const store = journal<Doc, number>(dir, { compactAtBytes: 500, compactionChunk: 2 });
    const apps = ['a', 'b', 'c', 'd', 'e'];
    const reader = journal<Doc, number>(dir);
    for (let n = 0; n < 60; n++) {
      await Promise.all(apps.map((app) => store.save(app, { n }, [n])));
      // Each app's events are always 0..n with nothing missing or repeated, mid-compaction or not.
      const seen = await reader.loadAll();
      for (const app of apps)
        expect(seen.get(app)?.events).toEqual(Array.from({ length: n + 1 }, (_, i) => i));
    }
  });

  it('a removed app stays removed once every journal is folded', async () => {
    // Snapshot writes wait until the removal is journaled: the fold of the older journals
    // then writes shop.json after its removal deleted it.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const fs: StateFileSystem = {
      ...nodeStateFileSystem,
      async writeDurably(path, data) {
        if (data.startsWith('{"covers"')) await held;
        await nodeStateFileSystem.writeDurably(path, data);
      },
    };
    const store = journal<Doc, string>(dir, { compactAtBytes: 200, fs });
    for (let n = 0; n < 10; n++) await store.save('shop', { n }, [`e${n}`]);
    await store.save('cart', { n: 0 });
    // The removal goes to a journal after the ones still being folded into shop.json.
    await store.remove('shop');
    for (let n = 1; n < 10; n++) await store.save('cart', { n });
    release();
    await store.settled();
    expect(await readdir(dir)).not.toContain('shop.json');
    expect(await journal<Doc, string>(dir).load('shop')).toBeUndefined();
    expect((await journal<Doc, string>(dir).loadAll()).size).toBe(1);
  });

  it('removes then saves again in one batch: the old events do not come back', async () => {
    const store = journal<Doc, string>(dir, { compactAtBytes: 1 });
    await store.save('shop', { n: 1 }, ['old']);
    const removed = store.remove('shop');
    const saved = store.save('shop', { n: 2 }, ['new']);
    await Promise.all([removed, saved]);
    expect(await store.load('shop')).toEqual({ state: { n: 2 }, events: ['new'] });
  });

  it('refuses a state document of the older format with the file and what it expected', async () => {
    await writeFile(join(dir, 'shop.json'), JSON.stringify({ version: 1, status: {}, events: [] }));
    await expect(journal(dir).load('shop')).rejects.toThrow(/shop\.json: expected \{covers, state, events\}/);
  });

  it('refuses a journal whose first line names another generation, naming the file', async () => {
    await writeFile(join(dir, 'journal.3.jsonl'), '{"journal":1,"generation":2}\n');
    await expect(journal(dir).load('shop')).rejects.toThrow(
      /journal\.3\.jsonl: first line must be \{"journal":2,"generation":3\}/,
    );
  });

  it('refuses names that could escape the state directory', () => {
    const store = journal(dir);
    expect(() => store.save('../etc', {})).toThrow(/RFC 1123/);
  });
});
