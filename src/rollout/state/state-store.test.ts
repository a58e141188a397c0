import { readdirSync, readFileSync } from 'node:fs';
import { appendFile, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeStateFileSystem, type StateFileSystem } from './state-files.js';
import { StateStore } from './state-store.js';
import { SpyFileSystem } from '../../../test/support/spy-file-system.js';

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('StateStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aviary-state-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips documents and lists apps', async () => {
    const store = new StateStore<{ n: number }>(dir);
    expect(await store.load('shop')).toBeUndefined();
    await store.save('shop', { n: 1 });
    await store.save('cart', { n: 2 });
    expect(await store.load('shop')).toEqual({ n: 1 });
    expect((await store.apps()).sort()).toEqual(['cart', 'shop']);
    await store.remove('cart');
    expect(await store.apps()).toEqual(['shop']);
  });

  it('keeps the last of many concurrent saves and leaves no temporary files', async () => {
    const store = new StateStore<{ n: number }>(dir);
    await Promise.all(Array.from({ length: 50 }, (_, n) => store.save('shop', { n })));
    expect(await store.load('shop')).toEqual({ n: 49 });
    expect(await readdir(join(dir, 'rollouts'))).toEqual(['shop.json']);
  });

  it('writes a changed document and leaves an unchanged one alone', async () => {
    const store = new StateStore<{ n: number }>(dir);
    const file = join(dir, 'rollouts', 'shop.json');
    await store.save('shop', { n: 1 });
    const first = await stat(file);
    // Every write renames a new file over the old one, so the inode tells a rewrite apart.
    await store.save('shop', { n: 1 });
    expect((await stat(file)).ino).toBe(first.ino);
    await store.save('shop', { n: 2 });
    expect((await stat(file)).ino).not.toBe(first.ino);
    expect(await store.load('shop')).toEqual({ n: 2 });
  });

  it('creates the directory again when it was removed', async () => {
    const store = new StateStore<{ n: number }>(dir);
    await store.save('shop', { n: 1 });
    await rm(join(dir, 'rollouts'), { recursive: true });
    await store.save('shop', { n: 2 });
    expect(await store.load('shop')).toEqual({ n: 2 });
  });

  it('writes a document again after its write failed', async () => {
    const store = new StateStore<{ n: number }>(dir);
    await store.save('shop', { n: 1 });
    await rm(join(dir, 'rollouts'), { recursive: true });
    await writeFile(join(dir, 'rollouts'), 'not a directory');
    await expect(store.save('shop', { n: 2 })).rejects.toThrow();
    await rm(join(dir, 'rollouts'));
    await store.save('shop', { n: 2 });
    expect(await store.load('shop')).toEqual({ n: 2 });
  });

  it('refuses names that could escape the state directory', async () => {
    const store = new StateStore<object>(dir);
    await expect(store.save('../etc', {})).rejects.toMatchObject({ code: 'AVIARY_STATE_INVALID_NAME' });
  });

  it('coalesces saves that arrive during a flush: the newest wins and every save waits for it', async () => {
    const fs = new SpyFileSystem();
    const store = new StateStore<{ n: number }>(dir, { fs });
    let open!: () => void;
    fs.gate = new Promise((resolve) => (open = resolve));
    const first = store.save('shop', { n: 0 });
    await until(() => fs.count('writeDurably') === 1);
    const durableAt: number[] = [];
    const later = Array.from({ length: 49 }, (_, i) =>
      store.save('shop', { n: i + 1 }).then(() => durableAt.push(fs.count('rename', 'shop.json'))),
    );
    open();
    await Promise.all([first, ...later]);
    expect(fs.count('rename', 'shop.json')).toBe(2);
    expect(fs.count('syncDirectory')).toBe(2);
    // Superseded saves resolve only once the newest document has been renamed into place.
    expect(durableAt).toEqual(Array.from({ length: 49 }, () => 2));
    expect(await store.load('shop')).toEqual({ n: 49 });
  });

  it('writes the apps of one batch with one directory fsync and bounded concurrency', async () => {
    const fs = new SpyFileSystem();
    const store = new StateStore<{ app: string }>(dir, { fs, concurrency: 3 });
    const apps = Array.from({ length: 10 }, (_, i) => `app-${i}`);
    await Promise.all(apps.map((app) => store.save(app, { app })));
    expect(fs.count('writeDurably')).toBe(10);
    expect(fs.count('rename')).toBe(10);
    expect(fs.count('syncDirectory')).toBe(1);
    expect(fs.maxInFlight.get('writeDurably')).toBe(3);
    const ops = fs.log.map((e) => e.op);
    // Every temporary file is durable before the first rename; the directory fsync comes last.
    expect(ops.lastIndexOf('writeDurably')).toBeLessThan(ops.indexOf('rename'));
    expect(ops.at(-1)).toBe('syncDirectory');
    expect((await store.apps()).sort()).toEqual([...apps].sort());
    for (const app of apps) expect(await store.load(app)).toEqual({ app });
  });

  it('leaves every document whole at every step, as after a kill -9 there', async () => {
    const rollouts = join(dir, 'rollouts');
    const saved = new Map<string, Set<string>>();
    let documentsSeen = 0;
    const crashHere = (): void => {
      let names: string[];
      try {
        names = readdirSync(rollouts);
      } catch {
        return;
      }
      for (const name of names.filter((n) => n.endsWith('.json'))) {
        const text = readFileSync(join(rollouts, name), 'utf8');
        expect(() => JSON.parse(text) as unknown).not.toThrow();
        expect(saved.get(name.slice(0, -5))?.has(text)).toBe(true);
        documentsSeen++;
      }
    };
    // A write torn in half: whatever file it targets holds half a document for a while.
    const fs: StateFileSystem = {
      ...nodeStateFileSystem,
      async writeDurably(path, data) {
        crashHere();
        await writeFile(path, data.slice(0, data.length / 2));
        crashHere();
        await appendFile(path, data.slice(data.length / 2));
        await nodeStateFileSystem.writeDurably(path, data);
        crashHere();
      },
      async rename(from, to) {
        await nodeStateFileSystem.rename(from, to);
        crashHere();
      },
    };
    const store = new StateStore<{ app: string; n: number; events: string[] }>(dir, { fs });
    const saves: Promise<void>[] = [];
    for (let n = 0; n < 20; n++) {
      for (const app of ['shop', 'cart', 'search']) {
        const document = { app, n, events: Array.from({ length: 50 }, (_, i) => `event ${i} of ${n}`) };
        saved.set(app, (saved.get(app) ?? new Set()).add(JSON.stringify(document)));
        saves.push(store.save(app, document));
      }
      if (n % 5 === 4) await Promise.all(saves);
    }
    await Promise.all(saves);
    crashHere();
    expect(documentsSeen).toBeGreaterThan(20);
    expect((await readdir(rollouts)).sort()).toEqual(['cart.json', 'search.json', 'shop.json']);
  });

  it('rejects every save of a failed batch, keeps the old documents and writes again on the next save', async () => {
    const fs = new SpyFileSystem();
    const store = new StateStore<{ n: number }>(dir, { fs });
    await Promise.all([store.save('shop', { n: 1 }), store.save('cart', { n: 1 })]);
    fs.failWith = (op, path) =>
      op === 'writeDurably' && fs.count('writeDurably') === 4 ? new Error(`EIO writing ${path}`) : undefined;
    const failed = [store.save('shop', { n: 2 }), store.save('cart', { n: 2 })];
    for (const save of failed) await expect(save).rejects.toThrow(/EIO/);
    expect(await readdir(join(dir, 'rollouts'))).toEqual(expect.arrayContaining(['cart.json', 'shop.json']));
    expect((await readdir(join(dir, 'rollouts'))).length).toBe(2);
    expect(await store.load('shop')).toEqual({ n: 1 });

    fs.failWith = (op) => (op === 'syncDirectory' ? new Error('EIO on fsync') : undefined);
    await expect(store.save('shop', { n: 2 })).rejects.toThrow('EIO on fsync');
    fs.failWith = undefined;
    const renames = fs.count('rename', 'shop.json');
    // The same document again: a failed write is not taken for a written one.
    await Promise.all([store.save('shop', { n: 2 }), store.save('cart', { n: 2 })]);
    expect(fs.count('rename', 'shop.json')).toBe(renames + 1);
    expect(await store.load('shop')).toEqual({ n: 2 });
    expect(await store.load('cart')).toEqual({ n: 2 });
  });
});
