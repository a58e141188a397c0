import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateStore } from './state-store.js';

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
});
