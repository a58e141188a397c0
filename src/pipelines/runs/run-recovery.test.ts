/**
 * A restart after the controller died mid-run: a real process group is left running (started
 * here, detached, as a build step would be), the run's file still says `running`.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPidAlive } from '../../target/process/process-group.js';
import { makeTemporaryDir, removeTemporaryDir } from '../git/git-test-support.js';
import { describeGroup, RUN_MARKER_VARIABLE } from './run-process-groups.js';
import { RunQueue } from './run-queue.js';
import { RunStore } from './run-store.js';

let dir: string;
const leaders: number[] = [];

beforeEach(async () => {
  dir = await makeTemporaryDir('recovery');
});

afterEach(async () => {
  for (const pgid of leaders.splice(0)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await removeTemporaryDir(dir);
});

/** Starts `sh` as a group leader with a grandchild; resolves the leader's and grandchild's pids. */
async function leftoverGroup(env: NodeJS.ProcessEnv = {}): Promise<{ pgid: number; grandchild: number }> {
  const pidFile = join(dir, `pid-${leaders.length}`);
  const child = spawn('sh', ['-c', `sleep 300 & echo $! > ${pidFile}; wait`], {
    detached: true,
    stdio: 'ignore',
    env: { PATH: process.env.PATH, ...env },
  });
  child.unref();
  leaders.push(child.pid!);
  for (;;) {
    const text = await readFile(pidFile, 'utf8').catch(() => '');
    if (text.endsWith('\n')) return { pgid: child.pid!, grandchild: Number(text.trim()) };
    await sleep(20);
  }
}

const INPUT = { pipeline: 'build', source: 'shop', ref: 'refs/tags/v1.0.0' } as const;

describe('restart recovery', () => {
  it('marks a running run interrupted, kills its recorded group, and re-queues it once', async () => {
    const group = await leftoverGroup();
    const before = await RunStore.open(dir);
    const run = await before.create(INPUT);
    await before.update(run.id, { state: 'running', processGroups: [await describeGroup(group.pgid)] });
    expect(await isPidAlive(group.grandchild)).toBe(true);

    const store = await RunStore.open(dir);
    expect(store.require(run.id)).toMatchObject({ state: 'interrupted' });
    expect(await isPidAlive(group.grandchild)).toBe(false);
    expect(await isPidAlive(group.pgid)).toBe(false);

    const attempts: number[] = [];
    const queue = new RunQueue({
      store,
      executors: {
        build: ({ run: current }) => {
          attempts.push(current.attempt);
          return Promise.resolve({ state: 'succeeded' });
        },
      },
    });
    const [requeued] = await queue.start();
    expect(requeued).toMatchObject({ ...INPUT, requeuedFrom: run.id, attempt: 2 });
    await expect(store.finished(requeued!.id)).resolves.toMatchObject({ state: 'succeeded' });
    expect(attempts).toEqual([2]);

    // A second restart re-queues nothing: the interrupted run was re-queued already.
    const again = new RunQueue({ store: await RunStore.open(dir), executors: {} });
    expect(await again.start()).toEqual([]);
  });

  it('does not re-queue an interrupted second attempt', async () => {
    const first = await RunStore.open(dir);
    const run = await first.create(INPUT, { attempt: 2 });
    await first.update(run.id, { state: 'running' });
    const store = await RunStore.open(dir);
    expect(store.require(run.id).state).toBe('interrupted');
    expect(await new RunQueue({ store, executors: {} }).start()).toEqual([]);
  });

  it('kills a group found by the run marker in its environment, even when none was recorded', async () => {
    const first = await RunStore.open(dir);
    const run = await first.create(INPUT);
    await first.update(run.id, { state: 'running' });
    const marked = await leftoverGroup({ [RUN_MARKER_VARIABLE]: run.id });
    const other = await leftoverGroup({ [RUN_MARKER_VARIABLE]: 'run-20000101T000000000Z-0000' });
    await RunStore.open(dir);
    expect(await isPidAlive(marked.grandchild)).toBe(false);
    expect(await isPidAlive(other.grandchild)).toBe(true);
  });

  it('leaves alone a recorded pgid whose leader is another process now (pid reuse)', async () => {
    const group = await leftoverGroup();
    const first = await RunStore.open(dir);
    const run = await first.create(INPUT);
    await first.update(run.id, { state: 'running', processGroups: [{ pgid: group.pgid, startTicks: '1' }] });
    await RunStore.open(dir);
    expect(await isPidAlive(group.grandchild)).toBe(true);
  });
});
