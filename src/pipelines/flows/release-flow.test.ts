/**
 * The operator pipeline through the run queue, on a real deploy repository, with the release
 * file validated as the release manager validates it and a fake forge status API on loopback.
 */
import { readFile } from 'node:fs/promises';
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
import type { RunRecord } from '../runs/run-record.js';
import { RunStore } from '../runs/run-store.js';
import { AppliedCommits } from './applied-commits.js';
import type { ForgeStatusTarget } from './forge-status.js';
import { createBareRepository, startFakeForge, type FakeForge } from './flow-test-support.js';
import { applyThroughReleaseManager, releaseFlow, type ReleaseApplier } from './release-flow.js';
import type { ReleaseSource } from './flow-sources.js';

const TOKEN = 'glpat-releaseToken-42';
const FILE = 'deploy/catalogdetail.yaml';
let dir: string;
let bare: string;
let repo: TestRepository;
let forge: FakeForge;
let store: RunStore;
let applied: AppliedCommits;
let queue: RunQueue;
/** What the release manager seam saw: every call, and the splits it applied. */
let calls: { app: string; by: string; ok: boolean }[];
let running: [string, number][][];

/** Validates as `ReleaseManager.apply` does, and records what it was asked and what it applied. */
const releaseManager: ReleaseApplier = {
  apply(app, document, by) {
    try {
      const release = parseReleaseOrThrow(document, `release of app ${app}`, { app });
      running.push(release.entries.map((entry) => [entry.name, entry.weight]));
      calls.push({ app, by, ok: true });
      return Promise.resolve();
    } catch (error) {
      calls.push({ app, by, ok: false });
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  },
};
const applyRelease = applyThroughReleaseManager(releaseManager);

function source(status?: ForgeStatusTarget): ReleaseSource {
  return {
    name: 'deploy',
    app: 'catalogdetail',
    url: bare,
    branch: 'main',
    releaseFile: FILE,
    ...(status === undefined ? {} : { status }),
  };
}

async function open(status?: ForgeStatusTarget): Promise<void> {
  store = await RunStore.open(join(dir, 'state', 'runs'));
  applied = await AppliedCommits.open(join(dir, 'state', 'applied-commits.json'));
  queue = new RunQueue({
    store,
    executors: {
      release: releaseFlow({
        releaseSource: (name) => (name === 'deploy' ? source(status) : undefined),
        cacheRoot: join(dir, 'state', 'git'),
        applied,
        applyRelease,
      }),
    },
  });
}

const split = (entries: [string, string, number][]): string =>
  `canaryConfig:\n${entries.map(([name, tag, weight]) => `  - name: ${name}\n    tag: ${tag}\n    weight: ${weight}\n`).join('')}`;

/** Commits the release file and pushes main; resolves the commit. */
async function pushRelease(text: string): Promise<string> {
  const commit = await repo.commit('release', { [FILE]: text });
  await repo.git('push', '--quiet', bare, 'main');
  return commit;
}

const enqueue = (after: string): Promise<RunRecord> =>
  queue.enqueue({ pipeline: 'release', source: 'deploy', ref: 'refs/heads/main', after });

beforeEach(async () => {
  dir = await makeTemporaryDir('release-flow');
  bare = await createBareRepository(dir, 'deploy');
  repo = await createTestRepository(dir);
  forge = await startFakeForge();
  calls = [];
  running = [];
});

afterEach(async () => {
  await queue.close({ abort: true });
  await forge.close();
  await removeTemporaryDir(dir);
});

const gitea = (): ForgeStatusTarget => ({
  forge: 'gitea',
  apiBaseUrl: `${forge.url}/api/v1`,
  repository: 'acme/deploy',
  token: TOKEN,
});
const gitlab = (): ForgeStatusTarget => ({
  forge: 'gitlab',
  apiBaseUrl: `${forge.url}/api/v4`,
  repository: 'acme/deploy',
  token: TOKEN,
});

describe('release flow', () => {
  it('applies the file at the branch tip, reports pending then success, and does nothing for the same commit', async () => {
    await open(gitea());
    await queue.start();
    const commit = await pushRelease(
      split([
        ['v1', 'v1.0.0', 50],
        ['v2', 'v2.0.0', 50],
      ]),
    );
    const run = await store.finished((await enqueue(commit)).id);
    expect(run).toMatchObject({ state: 'succeeded', commit });
    expect(running).toEqual([
      [
        ['v1', 50],
        ['v2', 50],
      ],
    ]);
    expect(calls[0]!.by).toContain(`git deploy@${commit.slice(0, 12)}`);
    expect(
      forge.requests.map((r) => [r.path, r.body.state, r.body.context, r.headers.authorization]),
    ).toEqual([
      [`/api/v1/repos/acme/deploy/statuses/${commit}`, 'pending', 'aviary/release', `token ${TOKEN}`],
      [`/api/v1/repos/acme/deploy/statuses/${commit}`, 'success', 'aviary/release', `token ${TOKEN}`],
    ]);

    const again = await store.finished((await enqueue(commit)).id);
    expect(again).toMatchObject({ state: 'succeeded', reason: 'already applied' });
    expect(calls).toHaveLength(1);
    expect((await AppliedCommits.open(join(dir, 'state', 'applied-commits.json'))).get('deploy')).toBe(
      commit,
    );
  });

  it('applies only the latest of two pushes at once; the older run is skipped', async () => {
    await open();
    const older = await pushRelease(
      split([
        ['v1', 'v1.0.0', 90],
        ['v2', 'v2.0.0', 10],
      ]),
    );
    const newer = await pushRelease(
      split([
        ['v1', 'v1.0.0', 50],
        ['v2', 'v2.0.0', 50],
      ]),
    );
    const first = await enqueue(older);
    const second = await enqueue(newer);
    await queue.start();
    await queue.idle();
    expect(store.require(first.id)).toMatchObject({ state: 'skipped', reason: `superseded by ${second.id}` });
    expect(store.require(second.id)).toMatchObject({ state: 'succeeded', commit: newer });
    expect(running).toEqual([
      [
        ['v1', 50],
        ['v2', 50],
      ],
    ]);
  });

  it('fails an invalid file with its path-named errors, changes nothing, and reports failure naming the first bad path', async () => {
    await open(gitlab());
    await queue.start();
    const good = await pushRelease(split([['v1', 'v1.0.0', 100]]));
    await store.finished((await enqueue(good)).id);
    const bad = await pushRelease(
      split([
        ['v1', 'v1.0.0', 105],
        ['v2', 'v2.0.0', -5],
      ]),
    );
    const run = await store.finished((await enqueue(bad)).id);
    expect(run).toMatchObject({ state: 'failed', reason: `${FILE} is invalid`, commit: bad });
    expect(run.errors).toEqual([
      'canaryConfig[0].weight: entry "v1": expected a number <= 100, got 105',
      'canaryConfig[1].weight: entry "v2": expected a number >= 0, got -5',
    ]);
    expect(calls.map((c) => c.ok)).toEqual([true, false]);
    expect(running).toEqual([[['v1', 100]]]);
    expect(applied.get('deploy')).toBe(good);
    const last = forge.requests.at(-1)!;
    expect(last.path).toBe(`/api/v4/projects/acme%2Fdeploy/statuses/${bad}`);
    expect(last.headers['private-token']).toBe(TOKEN);
    expect(last.body).toMatchObject({ state: 'failed', name: 'aviary/release' });
    expect(last.body.description).toMatch(/^invalid: canaryConfig\[0\]\.weight: /);
    expect(await readFile(store.logPath(run.id), 'utf8')).toContain('[release] canaryConfig[1].weight');
  });

  it('fails a file that is not YAML at (root), before the release manager is asked', async () => {
    await open();
    await queue.start();
    const run = await store.finished((await enqueue(await pushRelease('canaryConfig: [\n'))).id);
    expect(run).toMatchObject({ state: 'failed', reason: `${FILE} is invalid` });
    expect(run.errors![0]).toMatch(/^\(root\): not valid YAML: /);
    expect(calls).toEqual([]);
  });

  it('fails when the release file is missing at the tip', async () => {
    await open();
    await queue.start();
    const commit = await repo.commit('nothing', { 'README.md': 'x\n' });
    await repo.git('push', '--quiet', bare, 'main');
    const run = await store.finished((await enqueue(commit)).id);
    expect(run).toMatchObject({ state: 'failed' });
    expect(run.reason).toContain(`${FILE} is not in commit ${commit}`);
  });

  it('never writes the forge token to the log, even when the forge echoes it', async () => {
    await forge.close();
    forge = await startFakeForge((r) => ({
      status: 403,
      body: JSON.stringify({ token: r.headers['private-token'] }),
    }));
    await open(gitlab());
    await queue.start();
    const run = await store.finished((await enqueue(await pushRelease(split([['v1', 'v1.0.0', 100]])))).id);
    expect(run.state).toBe('succeeded');
    const log = await readFile(store.logPath(run.id), 'utf8');
    expect(log).toContain('[status] aviary/release pending not posted');
    expect(log).toContain('HTTP 403');
    expect(log).not.toContain(TOKEN);
    expect(JSON.stringify(store.require(run.id))).not.toContain(TOKEN);
  });
});
