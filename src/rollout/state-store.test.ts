import { mkdtemp, readdir, rm } from 'node:fs/promises';
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

  it('refuses names that could escape the state directory', async () => {
    const store = new StateStore<object>(dir);
    await expect(store.save('../etc', {})).rejects.toMatchObject({ code: 'AVIARY_STATE_INVALID_NAME' });
  });
});
