import { chmod, lstat, mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTemporaryDir, removeTemporaryDir } from '../git/git-test-support.js';
import { ArtifactError } from './artifact-error.js';
import { ArtifactStore, type PublishRequest } from './artifact-store.js';
import { digestTree } from './tree-digest.js';

const COMMIT_1 = '1'.repeat(40);
const COMMIT_2 = '2'.repeat(40);
const RUNNING_AS_ROOT = process.getuid?.() === 0;

let dir: string;
let root: string;
let store: ArtifactStore;

beforeEach(async () => {
  dir = await makeTemporaryDir('artifacts');
  root = join(dir, 'state', 'artifacts');
  store = await ArtifactStore.open(root, { now: () => new Date('2026-12-01T00:00:00.000Z') });
});

afterEach(async () => {
  await removeTemporaryDir(dir);
});

/** A build output under `dir/<name>` whose `version` file says `version`. */
async function output(name: string, version: string): Promise<string> {
  const out = join(dir, name);
  await mkdir(join(out, 'bin'), { recursive: true });
  await writeFile(join(out, 'version'), version);
  await writeFile(join(out, 'bin/start'), '#!/bin/sh\necho start\n');
  await chmod(join(out, 'bin/start'), 0o755);
  await symlink('bin/start', join(out, 'run'));
  return out;
}

function request(tag: string, commit: string, fromDir: string): PublishRequest {
  return { app: 'catalogdetail', tag, commit, buildKey: 'steps-abc', fromDir };
}

async function storedDirectories(): Promise<string[]> {
  return (await readdir(join(root, 'store'))).sort();
}

const errorOf = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('artifact store', () => {
  it('publishes a read-only copy named by its digest, and indexes the tag', async () => {
    const from = await output('out', 'v1');
    const published = await store.publish(request('v1.0.0', COMMIT_1, from));
    const digest = await digestTree(from);
    expect(published.dir).toBe(join(root, 'store', `sha256-${digest}`));
    expect(published.alreadyPublished).toBe(false);
    expect(published.entry).toEqual({
      app: 'catalogdetail',
      tag: 'v1.0.0',
      commit: COMMIT_1,
      digest,
      buildKey: 'steps-abc',
      publishedAt: '2026-12-01T00:00:00.000Z',
    });
    expect(await store.resolve('catalogdetail', 'v1.0.0')).toBe(published.dir);
    expect(await readFile(join(published.dir, 'version'), 'utf8')).toBe('v1');
    expect((await lstat(join(published.dir, 'version'))).mode & 0o777).toBe(0o444);
    expect((await lstat(join(published.dir, 'bin/start'))).mode & 0o777).toBe(0o555);
    expect((await lstat(join(published.dir, 'bin'))).mode & 0o777).toBe(0o555);
    expect((await lstat(published.dir)).mode & 0o777).toBe(0o555);
    expect((await lstat(join(published.dir, 'run'))).isSymbolicLink()).toBe(true);
    if (!RUNNING_AS_ROOT) {
      expect(await errorOf(writeFile(join(published.dir, 'version'), 'x'))).toMatchObject({ code: 'EACCES' });
      expect(await errorOf(writeFile(join(published.dir, 'new'), 'x'))).toMatchObject({ code: 'EACCES' });
    }
    expect(await storedDirectories()).toEqual([`sha256-${digest}`]);
  });

  it('keeps the index across a reopen', async () => {
    const published = await store.publish(request('v1.0.0', COMMIT_1, await output('out', 'v1')));
    const reopened = await ArtifactStore.open(root);
    expect(reopened.list()).toEqual([published.entry]);
    expect(await reopened.resolve('catalogdetail', 'v1.0.0')).toBe(published.dir);
    expect(await reopened.resolve('catalogdetail', 'v9')).toBeUndefined();
    expect(await reopened.resolve('other', 'v1.0.0')).toBeUndefined();
  });

  it('refuses the same tag from another commit, naming app, tag and both commits', async () => {
    await store.publish(request('v1.0.0', COMMIT_1, await output('out', 'v1')));
    const before = await readFile(join(root, 'index.json'), 'utf8');
    expect(() => store.checkTag(request('v1.0.0', COMMIT_2, ''))).toThrow(ArtifactError);
    const error = await errorOf(
      store.publish(request('v1.0.0', COMMIT_2, await output('moved', 'v1-moved'))),
    );
    expect(error).toBeInstanceOf(ArtifactError);
    expect((error as ArtifactError).code).toBe('AVIARY_ARTIFACT_TAG_IMMUTABLE');
    for (const part of ['catalogdetail', 'v1.0.0', COMMIT_1, COMMIT_2])
      expect((error as ArtifactError).message).toContain(part);
    expect(await readFile(join(root, 'index.json'), 'utf8')).toBe(before);
    expect(await storedDirectories()).toHaveLength(1);
  });

  it('refuses the same tag and commit under another build key', async () => {
    await store.publish(request('v1.0.0', COMMIT_1, await output('out', 'v1')));
    const error = await errorOf(
      store.publish({ ...request('v1.0.0', COMMIT_1, dir), buildKey: 'steps-new' }),
    );
    expect((error as ArtifactError).code).toBe('AVIARY_ARTIFACT_TAG_IMMUTABLE');
    expect((error as ArtifactError).message).toContain('steps-new');
  });

  it('answers a second publish of the same tag, commit and build key with the first', async () => {
    const first = await store.publish(request('v1.0.0', COMMIT_1, await output('out', 'v1')));
    const again = await store.publish(request('v1.0.0', COMMIT_1, await output('again', 'changed')));
    expect(again).toEqual({ ...first, alreadyPublished: true });
    expect(store.checkTag(request('v1.0.0', COMMIT_1, ''))).toEqual(first.entry);
  });

  it('reuses the artifact for a re-tag of the same commit', async () => {
    const first = await store.publish(request('v1.0.0', COMMIT_1, await output('out', 'v1')));
    expect(store.findByCommit('catalogdetail', COMMIT_2, 'steps-abc')).toBeUndefined();
    expect(store.findByCommit('catalogdetail', COMMIT_1, 'other-key')).toBeUndefined();
    const found = store.findByCommit('catalogdetail', COMMIT_1, 'steps-abc');
    expect(found).toEqual(first.entry);
    const retag = await store.addTag({ ...request('stable', COMMIT_1, ''), digest: found!.digest });
    expect(retag.dir).toBe(first.dir);
    expect(await store.resolve('catalogdetail', 'stable')).toBe(first.dir);
    expect(store.list().map((entry) => entry.tag)).toEqual(['stable', 'v1.0.0']);
    expect(await storedDirectories()).toHaveLength(1);
    const missing = await errorOf(store.addTag({ ...request('x', COMMIT_1, ''), digest: 'f'.repeat(64) }));
    expect((missing as ArtifactError).code).toBe('AVIARY_ARTIFACT_INVALID_INPUT');
  });

  it('stores identical outputs of two commits once', async () => {
    const a = await store.publish(request('v1', COMMIT_1, await output('a', 'same')));
    const b = await store.publish(request('v2', COMMIT_2, await output('b', 'same')));
    expect(b.dir).toBe(a.dir);
    expect(await storedDirectories()).toHaveLength(1);
  });

  it('cleans up what an interrupted publish left behind when opened', async () => {
    const partial = join(root, 'store', '.tmp-0123456789abcdef');
    await mkdir(join(partial, 'sub'), { recursive: true });
    await writeFile(join(partial, 'sub', 'half'), 'half');
    await chmod(join(partial, 'sub'), 0o555);
    await writeFile(join(root, '.index.json.tmp-abcdef'), '{"version":');
    const reopened = await ArtifactStore.open(root);
    expect(await storedDirectories()).toEqual([]);
    expect((await readdir(root)).sort()).toEqual(['store']);
    expect(reopened.list()).toEqual([]);
  });

  it('leaves nothing behind when the output cannot be stored', async () => {
    const from = await output('out', 'v1');
    const { execFile } = await import('node:child_process');
    await new Promise((resolve) => execFile('mkfifo', [join(from, 'pipe')], resolve));
    const error = await errorOf(store.publish(request('v1', COMMIT_1, from)));
    expect((error as ArtifactError).code).toBe('AVIARY_ARTIFACT_UNSUPPORTED_FILE');
    expect(await storedDirectories()).toEqual([]);
    expect(store.list()).toEqual([]);
  });

  it('collects unreferenced artifacts and unnamed directories, never a referenced one', async () => {
    const v1 = await store.publish(request('v1', COMMIT_1, await output('a', 'one')));
    const v2 = await store.publish(request('v2', COMMIT_2, await output('b', 'two')));
    const orphan = `sha256-${'e'.repeat(64)}`;
    await mkdir(join(root, 'store', orphan));
    const report = await store.gc(new Set([v2.entry.digest]));
    expect(report).toEqual({
      collected: [{ app: 'catalogdetail', tag: 'v1' }],
      removedDigests: expect.any(Array),
    });
    expect([...report.removedDigests].sort()).toEqual([v1.entry.digest, 'e'.repeat(64)].sort());
    expect(await storedDirectories()).toEqual([`sha256-${v2.entry.digest}`]);
    expect(await store.resolve('catalogdetail', 'v1')).toBeUndefined();
    expect(await store.resolve('catalogdetail', 'v2')).toBe(v2.dir);
    expect(store.entry('catalogdetail', 'v1')?.collectedAt).toBe('2026-12-01T00:00:00.000Z');
    expect(store.findByCommit('catalogdetail', COMMIT_1, 'steps-abc')).toBeUndefined();
    expect((await ArtifactStore.open(root)).entry('catalogdetail', 'v1')?.collectedAt).toBeDefined();
  });

  it('keeps a collected tag bound to its commit, and lets that commit be published again', async () => {
    await store.publish(request('v1', COMMIT_1, await output('a', 'one')));
    await store.gc(() => false);
    expect(await storedDirectories()).toEqual([]);
    const moved = await errorOf(store.publish(request('v1', COMMIT_2, await output('b', 'moved'))));
    expect((moved as ArtifactError).code).toBe('AVIARY_ARTIFACT_TAG_IMMUTABLE');
    const again = await store.publish(request('v1', COMMIT_1, await output('c', 'one')));
    expect(await store.resolve('catalogdetail', 'v1')).toBe(again.dir);
  });

  it('keeps an artifact that any referenced tag names, by predicate', async () => {
    const v1 = await store.publish(request('v1', COMMIT_1, await output('a', 'one')));
    await store.addTag({ ...request('stable', COMMIT_1, ''), digest: v1.entry.digest });
    const report = await store.gc((entry) => entry.tag === 'stable');
    expect(report).toEqual({ collected: [], removedDigests: [] });
    expect(await store.resolve('catalogdetail', 'v1')).toBe(v1.dir);
  });

  it('refuses a corrupt index, naming the file and the field', async () => {
    await writeFile(join(root, 'index.json'), JSON.stringify({ version: 1, entries: [{ app: 'x' }] }));
    const error = await errorOf(ArtifactStore.open(root));
    expect((error as ArtifactError).code).toBe('AVIARY_ARTIFACT_INDEX_CORRUPT');
    expect((error as ArtifactError).message).toContain(join(root, 'index.json'));
    expect((error as ArtifactError).message).toContain('entries.0.tag');
  });

  it.each([
    ['app', { app: 'Bad_App' }],
    ['commit', { commit: 'abc' }],
    ['tag', { tag: '' }],
    ['tag', { tag: 'v1\nforged' }],
    ['buildKey', { buildKey: '' }],
  ])('refuses an invalid %s', async (field, change) => {
    const error = await errorOf(store.publish({ ...request('v1', COMMIT_1, dir), ...change }));
    expect((error as ArtifactError).code).toBe('AVIARY_ARTIFACT_INVALID_INPUT');
    expect((error as ArtifactError).message.startsWith(field)).toBe(true);
  });
});
