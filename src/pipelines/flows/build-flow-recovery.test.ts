/**
 * The build pipeline cut short: cancelled while a step runs, and restarted after the
 * controller died mid-build (its run file says running, its step's process group is alive,
 * and its publish left a temporary copy in the artifact store).
 */
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPidAlive } from '../../target/process/process-group.js';
import { ArtifactStore } from '../artifacts/artifact-store.js';
import {
  createTestRepository,
  makeTemporaryDir,
  removeTemporaryDir,
  type TestRepository,
} from '../git/git-test-support.js';
import { RunQueue } from '../runs/run-queue.js';
import { RunStore } from '../runs/run-store.js';
import { buildFlow } from './build-flow.js';
import type { BuildSource } from './flow-sources.js';
import { createBareRepository, pushAnnotatedTag } from './flow-test-support.js';

let dir: string;
let bare: string;
let repo: TestRepository;
let store: RunStore;
let artifacts: ArtifactStore;
let queue: RunQueue | undefined;

async function open(steps: BuildSource['steps']): Promise<RunQueue> {
  store = await RunStore.open(join(dir, 'state', 'runs'));
  artifacts = await ArtifactStore.open(join(dir, 'state', 'artifacts'));
  const source: BuildSource = {
    name: 'catalogdetail',
    app: 'catalogdetail',
    url: bare,
    steps,
    outputDir: 'dist',
    timeoutMs: 60_000,
  };
  queue = new RunQueue({
    store,
    executors: {
      build: buildFlow({
        buildSource: () => source,
        cacheRoot: join(dir, 'state', 'git'),
        workRoot: join(dir, 'builds'),
        artifacts,
        killGraceMs: 100,
      }),
    },
  });
  return queue;
}

/** Reads a pid a step wrote to `file`, waiting for the line to be complete. */
async function pidIn(file: string): Promise<number> {
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (text.endsWith('\n')) return Number(text.trim());
    await sleep(20);
  }
}

const DIST = ['sh', '-c', 'mkdir -p dist && cat VERSION > dist/VERSION'];

beforeEach(async () => {
  dir = await makeTemporaryDir('build-recovery');
  bare = await createBareRepository(dir, 'catalogdetail');
  repo = await createTestRepository(dir);
});

afterEach(async () => {
  await queue?.close({ abort: true });
  queue = undefined;
  await removeTemporaryDir(dir);
});

describe('build flow cut short', () => {
  it('cancels a running build: its process group is killed and nothing is published', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const running = await open([DIST, ['sh', '-c', `sleep 300 & echo $! > ${pidFile}; wait`]]);
    await running.start();
    const { after } = await pushAnnotatedTag(repo, bare, 'v1.0.0', '1');
    const run = await running.enqueue({
      pipeline: 'build',
      source: 'catalogdetail',
      ref: 'refs/tags/v1.0.0',
      after,
    });
    const grandchild = await pidIn(pidFile);
    expect(await isPidAlive(grandchild)).toBe(true);
    await expect(running.cancel(run.id)).resolves.toMatchObject({ state: 'failed', reason: 'cancelled' });
    expect(await isPidAlive(grandchild)).toBe(false);
    expect(artifacts.list()).toEqual([]);
    expect(await readdir(join(dir, 'builds'))).toEqual([]);
  });

  it('after a restart: interrupted, its group killed, re-queued and completed; no partial artifact is visible', async () => {
    const { after, commit } = await pushAnnotatedTag(repo, bare, 'v9.0.0', '9');
    const dead = await RunStore.open(join(dir, 'state', 'runs'));
    const run = await dead.create({
      pipeline: 'build',
      source: 'catalogdetail',
      ref: 'refs/tags/v9.0.0',
      after,
    });
    const pidFile = join(dir, 'step.pid');
    const step = spawn('sh', ['-c', `sleep 300 & echo $! > ${pidFile}; wait`], {
      detached: true,
      stdio: 'ignore',
    });
    step.unref();
    const grandchild = await pidIn(pidFile);
    await dead.update(run.id, { state: 'running', processGroups: [{ pgid: step.pid! }] });
    const partial = join(dir, 'state', 'artifacts', 'store', '.tmp-0123456789abcdef');
    await mkdir(partial, { recursive: true });
    await writeFile(join(partial, 'VERSION'), 'half');

    const restarted = await open([DIST]);
    expect(store.require(run.id).state).toBe('interrupted');
    expect(await isPidAlive(grandchild)).toBe(false);
    expect(await readdir(join(dir, 'state', 'artifacts', 'store'))).toEqual([]);
    const [requeued] = await restarted.start();
    expect(requeued).toMatchObject({ requeuedFrom: run.id, attempt: 2 });
    const done = await store.finished(requeued!.id);
    expect(done).toMatchObject({ state: 'succeeded', commit });
    expect(await readdir(join(dir, 'state', 'artifacts', 'store'))).toEqual([
      `sha256-${done.artifact!.digest}`,
    ]);
    expect(artifacts.entry('catalogdetail', 'v9.0.0')).toMatchObject({ commit });
  });
});
