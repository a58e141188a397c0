/**
 * The three layers together, as the developer pipeline will chain them (issue 14): a real
 * bare repository receives a `git push` of an annotated tag; the tag is fetched into the
 * cache, checked against the push's `after`, peeled, exported, built and published.
 */
import { execFile } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArtifactError } from '../artifacts/artifact-error.js';
import { ArtifactStore } from '../artifacts/artifact-store.js';
import { fetchRef, openCache, peelToCommit } from '../git/git-cache.js';
import {
  createTestRepository,
  makeTemporaryDir,
  removeTemporaryDir,
  type TestRepository,
} from '../git/git-test-support.js';
import { exportTree } from '../git/tree-export.js';
import { runBuild } from './build-runner.js';

let dir: string;
let bare: string;
let repo: TestRepository;

beforeEach(async () => {
  dir = await makeTemporaryDir('pipeline');
  bare = join(dir, 'catalogdetail.git');
  await promisify(execFile)('git', ['init', '--bare', '--quiet', bare]);
  repo = await createTestRepository(dir);
});

afterEach(async () => {
  await removeTemporaryDir(dir);
});

/** Tag push → fetch → verify `after` → peel → export → build → publish; resolves the store and the outcome. */
async function tagPushed(tag: string, after: string, steps: string[][], run: string) {
  const cache = await openCache(join(dir, 'cache'), 'catalogdetail');
  const store = await ArtifactStore.open(join(dir, 'state', 'artifacts'));
  const fetched = await fetchRef(cache, bare, `refs/tags/${tag}`);
  expect(fetched).toBe(after);
  const commit = (await peelToCommit(cache, `refs/tags/${tag}`))!;
  const request = { app: 'catalogdetail', tag, commit, buildKey: 'make-dist' };
  store.checkTag(request);
  const workDir = join(dir, 'runs', run, 'work');
  await exportTree(cache, commit, workDir);
  const logFile = join(dir, 'runs', run, 'log');
  const result = await runBuild({ workDir, steps, timeoutMs: 60_000, logFile });
  if (result.outcome !== 'succeeded') return { store, result, commit };
  const published = await store.publish({ ...request, fromDir: join(workDir, 'dist') });
  return { store, result, commit, published };
}

const DIST = [['sh', '-c', 'mkdir dist && cp app.sh dist/ && cat VERSION > dist/VERSION']];

describe('developer pipeline on a real bare repository', () => {
  it('builds an annotated tag and indexes it under the peeled commit', async () => {
    const commit = await repo.commit('v2', {
      VERSION: '2.0.0\n',
      'app.sh': { exec: '#!/bin/sh\necho v2\n' },
    });
    await repo.git('tag', '-a', 'v2.0.0', '-m', 'v2');
    await repo.git('push', '--quiet', bare, 'main', 'v2.0.0');
    const after = await repo.git('rev-parse', 'refs/tags/v2.0.0');
    expect(after).not.toBe(commit);

    const { store, result, published } = await tagPushed('v2.0.0', after, DIST, 'run-1');
    expect(result.outcome).toBe('succeeded');
    expect(published?.entry).toMatchObject({ app: 'catalogdetail', tag: 'v2.0.0', commit });
    const artifact = (await store.resolve('catalogdetail', 'v2.0.0'))!;
    expect(await readFile(join(artifact, 'VERSION'), 'utf8')).toBe('2.0.0\n');
    await expect(access(join(artifact, 'app.sh'), 1)).resolves.toBeUndefined();
  });

  it('publishes nothing when the build fails', async () => {
    await repo.commit('v3', { VERSION: '3\n', 'app.sh': 'x' });
    await repo.git('tag', '-a', 'v3.0.0', '-m', 'v3');
    await repo.git('push', '--quiet', bare, 'v3.0.0');
    const after = await repo.git('rev-parse', 'refs/tags/v3.0.0');
    const { store, result } = await tagPushed('v3.0.0', after, [['sh', '-c', 'exit 2']], 'run-1');
    expect(result).toEqual({ outcome: 'failed', failedStep: 0, exitCode: 2 });
    expect(store.list()).toEqual([]);
  });

  it('refuses a force-moved tag before building', async () => {
    await repo.commit('v2', { VERSION: '2\n', 'app.sh': 'x' });
    await repo.git('tag', '-a', 'v2.0.0', '-m', 'v2');
    await repo.git('push', '--quiet', bare, 'v2.0.0');
    const first = await tagPushed('v2.0.0', await repo.git('rev-parse', 'v2.0.0'), DIST, 'run-1');
    expect(first.result.outcome).toBe('succeeded');

    const moved = await repo.commit('v2 again', { VERSION: 'moved\n' });
    await repo.git('tag', '-a', '--force', 'v2.0.0', '-m', 'moved');
    await repo.git('push', '--quiet', '--force', bare, 'v2.0.0');
    const error = await tagPushed('v2.0.0', await repo.git('rev-parse', 'v2.0.0'), DIST, 'run-2').catch(
      (e: unknown) => e,
    );
    expect((error as ArtifactError).code).toBe('AVIARY_ARTIFACT_TAG_IMMUTABLE');
    expect((error as ArtifactError).message).toContain(moved);
    expect(await readFile(join(first.published!.dir, 'VERSION'), 'utf8')).toBe('2\n');
  });
});
