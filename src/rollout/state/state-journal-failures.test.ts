/**
 * The state journal when a write does not complete: a torn last line (a crash mid-append),
 * an append that fails, and a crash at every step of a run of saves and compactions.
 */
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { nodeStateFileSystem, type StateFileSystem } from './state-files.js';
import {
  journals,
  linesOf,
  newestJournal,
  useJournalFixture,
  type Doc,
} from './state-journal-test-support.js';
import { SpyFileSystem } from '../../../test/support/spy-file-system.js';

describe('StateJournal after failed writes', () => {
  const fixture = useJournalFixture();
  const journal = fixture.journal.bind(fixture);
  let dir: string;
  beforeEach(() => {
    dir = fixture.dir;
  });

  it('drops a torn last line; a new writer leaves that journal and appends to a new one', async () => {
    const store = journal<Doc, string>(dir);
    await store.save('shop', { n: 1 }, ['a']);
    await store.settled();
    await appendFile(await newestJournal(dir), '{"app":"shop","state":{"n":2},"ev');
    expect(await journal<Doc, string>(dir).load('shop')).toEqual({ state: { n: 1 }, events: ['a'] });
    const next = journal<Doc, string>(dir);
    await next.save('shop', { n: 3 }, ['c']);
    await next.settled();
    expect(await journal<Doc, string>(dir).load('shop')).toEqual({
      state: { n: 3 },
      events: ['a', 'c'],
    });
    expect(await journals(dir)).toHaveLength(1);
    for (const line of await linesOf(await newestJournal(dir)))
      expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  it('reads a last line without its newline as torn, as compaction does, and reports it once', async () => {
    const store = journal<Doc, string>(dir);
    await store.save('shop', { n: 1 }, ['a']);
    await store.save('shop', { n: 2 }, ['b']);
    await store.settled();
    // A power cut between the line and its newline: the append was never acknowledged.
    const path = await newestJournal(dir);
    await writeFile(path, (await readFile(path, 'utf8')).slice(0, -1));
    const torn: [string, number][] = [];
    const restarted = journal<Doc, string>(dir, { onTornTail: (p, bytes) => torn.push([p, bytes]) });
    expect(await restarted.load('shop')).toEqual({ state: { n: 1 }, events: ['a'] });
    expect(await restarted.loadAll()).toEqual(new Map([['shop', { state: { n: 1 }, events: ['a'] }]]));
    expect(torn).toEqual([[path, (await linesOf(path)).at(-1)!.length]]);
    // The restart seals that journal and folds it: the state read before the fold stays.
    await restarted.save('cart', { n: 9 });
    await restarted.settled();
    expect(await journals(dir)).toHaveLength(1);
    expect(await journal<Doc, string>(dir).load('shop')).toEqual({ state: { n: 1 }, events: ['a'] });
  });

  it('rejects the saves of a failed append, keeps what was durable and writes again on the next save', async () => {
    const fs = new SpyFileSystem();
    const store = journal<Doc, string>(dir, { fs });
    await store.save('shop', { n: 1 }, ['a']);
    fs.failWith = (op) => (op === 'append' ? new Error('EIO on append') : undefined);
    await expect(store.save('shop', { n: 2 }, ['b'])).rejects.toThrow('EIO on append');
    // Half a line reached the disk before the failure.
    await appendFile(await newestJournal(dir), '{"app":"shop","sta');
    fs.failWith = undefined;
    expect(await store.load('shop')).toEqual({ state: { n: 1 }, events: ['a'] });
    await store.save('shop', { n: 2 }, ['b']);
    expect(await journal<Doc, string>(dir).load('shop')).toEqual({
      state: { n: 2 },
      events: ['a', 'b'],
    });
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
      const store = journal<Doc, number>(stateDir, { fs, compactAtBytes: 300 });
      const acked = new Map<string, number>();
      for (const { app, n } of script) {
        try {
          await store.save(app, { n }, [n]);
          acked.set(app, n);
        } catch {
          break;
        }
      }
      // Nothing of the killed writer is still under way (its compaction failed at the crash too).
      await store.settled();
      // What a restart finds: every acknowledged save, and a prefix of the script per app.
      const loaded = await journal<Doc, number>(stateDir).loadAll();
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
      const restarted = journal<Doc, number>(stateDir);
      await restarted.save('a', { n: 100 }, [100]);
      expect((await journal<Doc, number>(stateDir).load('a'))?.events.at(-1)).toBe(100);
      return { ops, acked };
    };
    const clean = await run(Number.MAX_SAFE_INTEGER);
    expect(clean.acked.get('c')).toBe(29);
    for (let crashAfter = 1; crashAfter <= clean.ops; crashAfter++) await run(crashAfter);
  });

  it('names the journal and the errno of a failed append; the torn line it left is never appended to', async () => {
    let full = false;
    const fs: StateFileSystem = {
      ...nodeStateFileSystem,
      // A full disk: half of the batch reaches the file, then ENOSPC; creating a journal fails too.
      async append(path, data) {
        if (!full) return nodeStateFileSystem.append(path, data);
        await appendFile(path, data.slice(0, data.length / 2));
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      },
      async writeDurably(path, data) {
        if (full)
          throw Object.assign(new Error(`ENOSPC: no space left on device, open '${path}'`), {
            code: 'ENOSPC',
          });
        return nodeStateFileSystem.writeDurably(path, data);
      },
    };
    const store = journal<Doc, string>(dir, { fs });
    await store.save('shop', { n: 1 }, ['a']);
    const first = await newestJournal(dir);
    full = true;
    const failure = store.save('shop', { n: 2 }, ['b']);
    await expect(failure).rejects.toMatchObject({ code: 'ENOSPC', path: first });
    await expect(failure).rejects.toThrow(`${first}: append of `);
    // While the disk stays full no new journal can start: the error names the one it tried.
    await expect(store.save('shop', { n: 3 }, ['c'])).rejects.toMatchObject({ code: 'ENOSPC' });
    await expect(store.save('shop', { n: 3 }, ['c'])).rejects.toThrow(
      /journal\.2\.jsonl: creating the journal failed with ENOSPC/,
    );
    full = false;
    // The rejected saves' events are the caller's to send again (the controller does).
    await store.save('shop', { n: 4 }, ['d']);
    await store.settled();
    expect(await journal<Doc, string>(dir).load('shop')).toEqual({
      state: { n: 4 },
      events: ['a', 'd'],
    });
    // Every journal left is whole lines but for a torn last line, and the torn one took no more.
    for (const name of await journals(dir)) {
      const lines = (await readFile(join(dir, name), 'utf8')).split('\n');
      const whole = lines.slice(0, -1);
      for (const line of whole) expect(() => JSON.parse(line) as unknown).not.toThrow();
    }
  });
});
