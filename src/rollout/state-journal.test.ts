import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateJournal } from './state-journal.js';
import { nodeStateFileSystem, type StateFileSystem } from './state-store.js';
import { SpyFileSystem } from './test-support.js';

interface Doc {
  readonly n: number;
}

const journalLines = async (dir: string): Promise<string[]> =>
  (await readFile(join(dir, 'journal.jsonl'), 'utf8')).split('\n').filter((l) => l !== '');

describe('StateJournal', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aviary-journal-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips state and events, lists apps and forgets a removed one', async () => {
    const store = new StateJournal<Doc, string>(dir);
    expect(await store.load('shop')).toBeUndefined();
    await store.save('shop', { n: 1 }, ['a']);
    await store.save('shop', { n: 2 }, ['b', 'c']);
    await store.save('cart', { n: 7 });
    expect(await store.load('shop')).toEqual({ state: { n: 2 }, events: ['a', 'b', 'c'] });
    expect((await store.apps()).sort()).toEqual(['cart', 'shop']);
    await store.remove('cart');
    expect(await store.apps()).toEqual(['shop']);
    // Another instance (a restart) reads the same.
    const again = new StateJournal<Doc, string>(dir);
    expect(await again.loadAll()).toEqual(new Map([['shop', { state: { n: 2 }, events: ['a', 'b', 'c'] }]]));
  });

  it('writes one journal append per batch, whatever the number of apps, and nothing for an idle save', async () => {
    const fs = new SpyFileSystem();
    const store = new StateJournal<Doc, string>(dir, { fs });
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
    const store = new StateJournal<Doc, number>(dir, { fs });
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
    const store = new StateJournal<Doc, number>(dir, { eventLimit: 10, compactAtBytes: 2_000 });
    for (let n = 0; n < 200; n++) await store.save(n % 2 === 0 ? 'shop' : 'cart', { n }, [n]);
    const evens = Array.from({ length: 10 }, (_, i) => 180 + 2 * i);
    expect(await store.load('shop')).toEqual({ state: { n: 198 }, events: evens });
    const header = JSON.parse((await journalLines(dir))[0] ?? '') as { generation: number };
    expect(header.generation).toBeGreaterThan(2);
    const snapshot = JSON.parse(await readFile(join(dir, 'shop.json'), 'utf8')) as { covers: number };
    expect(snapshot.covers).toBe(header.generation - 1);
    expect((await readdir(dir)).sort()).toEqual(['cart.json', 'journal.jsonl', 'shop.json']);
    const restarted = new StateJournal<Doc, number>(dir, { eventLimit: 10 });
    expect(await restarted.load('cart')).toEqual({
      state: { n: 199 },
      events: evens.map((n) => n + 1),
    });
  });

  it('drops a torn last line, and a writer cuts it before appending', async () => {
    const store = new StateJournal<Doc, string>(dir);
    await store.save('shop', { n: 1 }, ['a']);
    await appendFile(join(dir, 'journal.jsonl'), '{"app":"shop","state":{"n":2},"ev');
    expect(await new StateJournal<Doc, string>(dir).load('shop')).toEqual({ state: { n: 1 }, events: ['a'] });
    const next = new StateJournal<Doc, string>(dir);
    await next.save('shop', { n: 3 }, ['c']);
    expect(await new StateJournal<Doc, string>(dir).load('shop')).toEqual({
      state: { n: 3 },
      events: ['a', 'c'],
    });
    for (const line of await journalLines(dir)) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  it('removes then saves again in one batch: the old events do not come back', async () => {
    const store = new StateJournal<Doc, string>(dir, { compactAtBytes: 1 });
    await store.save('shop', { n: 1 }, ['old']);
    const removed = store.remove('shop');
    const saved = store.save('shop', { n: 2 }, ['new']);
    await Promise.all([removed, saved]);
    expect(await store.load('shop')).toEqual({ state: { n: 2 }, events: ['new'] });
  });

  it('rejects the saves of a failed append, keeps what was durable and writes again on the next save', async () => {
    const fs = new SpyFileSystem();
    const store = new StateJournal<Doc, string>(dir, { fs });
    await store.save('shop', { n: 1 }, ['a']);
    fs.failWith = (op) => (op === 'append' ? new Error('EIO on append') : undefined);
    await expect(store.save('shop', { n: 2 }, ['b'])).rejects.toThrow('EIO on append');
    // Half a line reached the disk before the failure.
    await appendFile(join(dir, 'journal.jsonl'), '{"app":"shop","sta');
    fs.failWith = undefined;
    expect(await store.load('shop')).toEqual({ state: { n: 1 }, events: ['a'] });
    await store.save('shop', { n: 2 }, ['b']);
    expect(await new StateJournal<Doc, string>(dir).load('shop')).toEqual({
      state: { n: 2 },
      events: ['a', 'b'],
    });
  });

  it('refuses a state document of the older format with the file and what it expected', async () => {
    await writeFile(join(dir, 'shop.json'), JSON.stringify({ version: 1, status: {}, events: [] }));
    await expect(new StateJournal(dir).load('shop')).rejects.toThrow(
      /shop\.json: expected \{covers, state, events\}/,
    );
  });

  it('refuses names that could escape the state directory', () => {
    const store = new StateJournal(dir);
    expect(() => store.save('../etc', {})).toThrow(/RFC 1123/);
  });

  it('after a crash at any step, holds every acknowledged save and no event twice', async () => {
    // The script: three apps, saves with one event each, compactions every few batches.
    const script = Array.from({ length: 30 }, (_, i) => ({ app: ['a', 'b', 'c'][i % 3] ?? 'a', n: i }));
    const run = async (crashAfter: number): Promise<{ ops: number; acked: Map<string, number> }> => {
      const stateDir = join(dir, `crash-${crashAfter}`);
      let ops = 0;
      const step = async <T>(work: () => Promise<T>, torn?: () => Promise<void>): Promise<T> => {
        ops++;
        if (ops === crashAfter && torn) await torn();
        if (ops >= crashAfter) throw new Error('killed');
        return work();
      };
      const fs: StateFileSystem = {
        writeDurably: (path, data) =>
          step(
            () => nodeStateFileSystem.writeDurably(path, data),
            () => writeFile(path, data.slice(0, data.length / 2)),
          ),
        append: (path, data) =>
          step(
            () => nodeStateFileSystem.append(path, data),
            () => appendFile(path, data.slice(0, data.length / 2)),
          ),
        rename: (from, to) => step(() => nodeStateFileSystem.rename(from, to)),
        remove: (path) => step(() => nodeStateFileSystem.remove(path)),
        syncDirectory: (d) => step(() => nodeStateFileSystem.syncDirectory(d)),
        makeDirectory: (d) => nodeStateFileSystem.makeDirectory(d),
      };
      const store = new StateJournal<Doc, number>(stateDir, { fs, compactAtBytes: 300 });
      const acked = new Map<string, number>();
      for (const { app, n } of script) {
        try {
          await store.save(app, { n }, [n]);
          acked.set(app, n);
        } catch {
          break;
        }
      }
      // What a restart finds: every acknowledged save, and a prefix of the script per app.
      const loaded = await new StateJournal<Doc, number>(stateDir).loadAll();
      for (const app of ['a', 'b', 'c']) {
        const mine = script.filter((s) => s.app === app).map((s) => s.n);
        const found = loaded.get(app);
        const last = acked.get(app);
        if (last === undefined && !found) continue;
        expect(found, `app ${app} after a crash at step ${crashAfter}`).toBeDefined();
        const upTo = found?.state.n ?? -1;
        expect(upTo).toBeGreaterThanOrEqual(last ?? -1);
        expect(found?.events).toEqual(mine.filter((n) => n <= upTo));
      }
      // A restarted writer goes on from there.
      const restarted = new StateJournal<Doc, number>(stateDir);
      await restarted.save('a', { n: 100 }, [100]);
      expect((await new StateJournal<Doc, number>(stateDir).load('a'))?.events.at(-1)).toBe(100);
      return { ops, acked };
    };
    const clean = await run(Number.MAX_SAFE_INTEGER);
    expect(clean.acked.get('c')).toBe(29);
    for (let crashAfter = 1; crashAfter <= clean.ops; crashAfter++) await run(crashAfter);
  });
});
