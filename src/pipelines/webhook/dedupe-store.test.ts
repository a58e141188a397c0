import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeStateFileSystem, type StateFileSystem } from '../../rollout/state/state-files.js';
import { DedupeStore, deliveryKey, eventKey } from './dedupe-store.js';

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aviary-dedupe-'));
  file = join(dir, 'nested', 'dedupe.jsonl');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function linesOf(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8')).split('\n').filter((line) => line !== '');
}

describe('DedupeStore', () => {
  it('records each key once and names the duplicate', async () => {
    const store = await DedupeStore.open({ file });
    const keys = [deliveryKey('github', 'd1'), eventKey('app', 'refs/tags/v1', 'abc')];
    expect(await store.recordIfNew(keys)).toEqual({ recorded: true });
    expect(await store.recordIfNew([deliveryKey('github', 'd1'), 'other'])).toEqual({
      recorded: false,
      duplicate: deliveryKey('github', 'd1'),
    });
    expect(await store.recordIfNew([deliveryKey('github', 'd2'), keys[1]!])).toEqual({
      recorded: false,
      duplicate: keys[1],
    });
    expect(await linesOf(file)).toHaveLength(1);
  });

  it('keeps delivery ids of different forges apart, and the two kinds of key apart', () => {
    expect(deliveryKey('github', 'x')).not.toBe(deliveryKey('gitea', 'x'));
    expect(eventKey('app', 'refs/tags/v1', 'abc')).toBe('app\u0000refs/tags/v1\u0000abc');
    expect(deliveryKey('github', 'x').split('\u0000')).toHaveLength(2);
  });

  it('remembers after a restart, in a file only its owner can read', async () => {
    const first = await DedupeStore.open({ file });
    await first.recordIfNew(['a', 'b']);
    await first.close();
    const second = await DedupeStore.open({ file });
    expect([second.has('a'), second.has('b'), second.has('c')]).toEqual([true, true, false]);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('drops a torn last line and appends on a line of its own', async () => {
    const store = await DedupeStore.open({ file });
    await store.recordIfNew(['whole']);
    await writeFile(file, `${await readFile(file, 'utf8')}{"keys":["tor`, { flag: 'w' });
    const reopened = await DedupeStore.open({ file });
    expect([reopened.has('whole'), reopened.has('tor')]).toEqual([true, false]);
    await reopened.recordIfNew(['after']);
    const last = await DedupeStore.open({ file });
    expect([last.has('whole'), last.has('after')]).toEqual([true, true]);
    expect((await linesOf(file)).map((line) => JSON.parse(line).keys)).toEqual([['whole'], ['after']]);
  });

  it('refuses a bad line that is not the last, naming the file and line', async () => {
    await DedupeStore.open({ file });
    await writeFile(file, '{"keys":["a"]}\nnot json\n{"keys":["b"]}\n');
    await expect(DedupeStore.open({ file })).rejects.toMatchObject({
      code: 'AVIARY_STATE_CORRUPT',
      message: expect.stringContaining(`${file}, line 2`),
    });
  });

  it('stays bounded: compaction keeps the newest maxEntries records', async () => {
    const store = await DedupeStore.open({ file, maxEntries: 3 });
    for (let i = 0; i < 10; i++) await store.recordIfNew([`k${i}`]);
    expect(store.size).toBeLessThan(6);
    expect((await linesOf(file)).length).toBeLessThan(6);
    const reopened = await DedupeStore.open({ file, maxEntries: 3 });
    expect(reopened.size).toBe(3);
    expect(['k0', 'k6', 'k7', 'k8', 'k9'].map((key) => reopened.has(key))).toEqual([
      false,
      false,
      true,
      true,
      true,
    ]);
  });

  it('lets one of two concurrent claims of a key win, and frees released keys', async () => {
    const store = await DedupeStore.open({ file });
    const first = store.claim(['k', 'e1']);
    expect(store.claim(['other', 'k'])).toEqual({ duplicate: 'k' });
    expect('duplicate' in first).toBe(false);
    if ('duplicate' in first) return;
    first.release();
    const again = store.claim(['k']);
    expect('record' in again).toBe(true);
    expect(await linesOf(file).catch(() => [])).toEqual([]);
  });

  it('rejects when the append fails, frees the keys, and repairs the partial line', async () => {
    let failNext = true;
    const fileSystem: StateFileSystem = {
      ...nodeStateFileSystem,
      async append(path, data) {
        if (!failNext) return nodeStateFileSystem.append(path, data);
        failNext = false;
        await nodeStateFileSystem.append(path, data.slice(0, 5));
        throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      },
    };
    const store = await DedupeStore.open({ file, fileSystem });
    await expect(store.recordIfNew(['lost'])).rejects.toThrow('no space left');
    expect(store.has('lost')).toBe(false);
    expect(await store.recordIfNew(['kept'])).toEqual({ recorded: true });
    const reopened = await DedupeStore.open({ file });
    expect([reopened.has('lost'), reopened.has('kept')]).toEqual([false, true]);
  });

  it('refuses a maxEntries below 1', async () => {
    await expect(DedupeStore.open({ file, maxEntries: 0 })).rejects.toThrow(
      'maxEntries: expected an integer >= 1',
    );
  });
});
