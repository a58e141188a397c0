/**
 * The deploy branch poll on a real deploy repository, through a real run queue and release
 * flow: what it queues, and what it leaves alone (an applied tip, a run already in hand, a
 * tip a run already tried). The release file is validated as the release manager does.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseReleaseOrThrow } from '../../config/release-schema.js';
import {
  createTestRepository,
  makeTemporaryDir,
  removeTemporaryDir,
  type TestRepository,
} from '../git/git-test-support.js';
import { RunQueue } from '../runs/run-queue.js';
import { RunStore } from '../runs/run-store.js';
import { AppliedCommits } from './applied-commits.js';
import { createBareRepository } from './flow-test-support.js';
import type { ReleaseSource } from './flow-sources.js';
import { pollSource } from './poll-source.js';
import { applyThroughReleaseManager, releaseFlow } from './release-flow.js';

const FILE = 'release.yaml';
let dir: string;
let bare: string;
let repo: TestRepository;
let store: RunStore;
let applied: AppliedCommits;
let queue: RunQueue;
/** The splits the release manager stand-in applied. */
let running: [string, number][][];
/** Resolved when an apply may finish; replaced to hold one back. */
let gate: Promise<void>;

const source: ReleaseSource = {
  name: 'deploy',
  app: 'catalogdetail',
  url: '',
  branch: 'main',
  releaseFile: FILE,
};

beforeEach(async () => {
  dir = await makeTemporaryDir('poll-source');
  bare = await createBareRepository(dir, 'deploy');
  repo = await createTestRepository(dir);
  running = [];
  gate = Promise.resolve();
  store = await RunStore.open(join(dir, 'state', 'runs'));
  applied = await AppliedCommits.open(join(dir, 'state', 'applied.json'));
  const applyRelease = applyThroughReleaseManager({
    async apply(app, document) {
      const release = parseReleaseOrThrow(document, `release of app ${app}`, { app });
      await gate;
      running.push(release.entries.map((entry) => [entry.name, entry.weight]));
    },
  });
  queue = new RunQueue({
    store,
    executors: {
      release: releaseFlow({
        releaseSource: (name) => (name === 'deploy' ? { ...source, url: bare } : undefined),
        cacheRoot: join(dir, 'state', 'git'),
        applied,
        applyRelease,
      }),
    },
  });
});

afterEach(async () => {
  await queue.close({ abort: true });
  await removeTemporaryDir(dir);
});

const poll = () =>
  pollSource({
    source: { ...source, url: bare },
    cacheRoot: join(dir, 'state', 'git'),
    applied,
    queue,
    store,
  });

/** Commits `entries` as the release file, pushes main; resolves the commit. */
async function pushRelease(entries: [string, string, number][]): Promise<string> {
  const text = `canaryConfig:\n${entries.map(([name, tag, weight]) => `  - {name: ${name}, tag: ${tag}, weight: ${weight}}\n`).join('')}`;
  const commit = await repo.commit('release', { [FILE]: text });
  await repo.git('push', '--quiet', bare, 'main');
  return commit;
}

const releaseRuns = () => store.list().filter((run) => run.pipeline === 'release');

describe('deploy branch poll', () => {
  it('queues a release run when the tip is not the last applied, once, and nothing when it is', async () => {
    const first = await pushRelease([['v1', 'v1.0.0', 100]]);
    const polled = await poll();
    expect(polled).toMatchObject({ kind: 'queued', run: { pipeline: 'release', after: first } });
    expect(await poll()).toMatchObject({ kind: 'already-queued' });
    await queue.start();
    await queue.idle();
    expect(await poll()).toEqual({ kind: 'up-to-date', commit: first });
    const second = await pushRelease([
      ['v1', 'v1.0.0', 60],
      ['v2', 'v2.0.0', 40],
    ]);
    expect(await poll()).toMatchObject({ kind: 'queued' });
    await queue.idle();
    expect(applied.get('deploy')).toBe(second);
    expect(running.at(-1)).toEqual([
      ['v1', 60],
      ['v2', 40],
    ]);
  });

  it('does not queue again a tip whose run failed, and queues the next push', async () => {
    await queue.start();
    const bad = await pushRelease([['v1', 'v1.0.0', 105]]);
    const polled = await poll();
    if (polled.kind !== 'queued') throw new Error(`expected a queued run, got ${polled.kind}`);
    const failed = await store.finished(polled.run.id);
    expect(failed).toMatchObject({ state: 'failed', commit: bad });
    for (let i = 0; i < 3; i += 1)
      expect(await poll()).toEqual({ kind: 'already-tried', runId: failed.id, commit: bad });
    expect(releaseRuns()).toHaveLength(1);

    const good = await pushRelease([['v1', 'v1.0.0', 100]]);
    expect(await poll()).toMatchObject({ kind: 'queued', run: { after: good } });
    await queue.idle();
    expect(applied.get('deploy')).toBe(good);
  });

  it('queues a tip moved back to a commit that failed before, once another commit was tried since', async () => {
    await queue.start();
    const bad = await pushRelease([['v1', 'v1.0.0', 105]]);
    expect(await poll()).toMatchObject({ kind: 'queued' });
    await queue.idle();
    await pushRelease([['v1', 'v1.0.0', 100]]);
    expect(await poll()).toMatchObject({ kind: 'queued' });
    await queue.idle();
    await repo.git('push', '--quiet', '--force', bare, `${bad}:refs/heads/main`);
    expect(await poll()).toMatchObject({ kind: 'queued', run: { after: bad } });
  });

  it('leaves alone a tip a running run is applying, and queues a newer tip behind it', async () => {
    let release!: () => void;
    gate = new Promise((resolve) => (release = resolve));
    await queue.start();
    const first = await pushRelease([['v1', 'v1.0.0', 100]]);
    expect(await poll()).toMatchObject({ kind: 'queued' });
    const inHand = releaseRuns()[0]!;
    await new Promise<void>((resolve) => {
      const look = (): void => {
        if (store.get(inHand.id)?.commit === first) resolve();
        else store.once('run', look);
      };
      look();
    });
    expect(store.require(inHand.id).state).toBe('running');
    expect(await poll()).toEqual({ kind: 'already-queued', runId: inHand.id });

    const second = await pushRelease([
      ['v1', 'v1.0.0', 50],
      ['v2', 'v2.0.0', 50],
    ]);
    expect(await poll()).toMatchObject({ kind: 'queued', run: { after: second } });
    release();
    await queue.idle();
    expect(releaseRuns().map((run) => run.state)).toEqual(['succeeded', 'succeeded']);
    expect(applied.get('deploy')).toBe(second);
  });
});
