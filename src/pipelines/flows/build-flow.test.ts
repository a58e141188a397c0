/**
 * The developer pipeline through the run queue, on a real bare repository, with real builds
 * and a fake forge status API on loopback.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
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
import type { RunRecord } from '../runs/run-record.js';
import { RunStore } from '../runs/run-store.js';
import { buildFlow, type StartCanary } from './build-flow.js';
import type { BuildSource } from './flow-sources.js';
import {
  createBareRepository,
  pushAnnotatedTag,
  startFakeForge,
  type FakeForge,
} from './flow-test-support.js';

const TOKEN = 'ghp_forgeToken0123456789';
let dir: string;
let bare: string;
let repo: TestRepository;
let forge: FakeForge;
let store: RunStore;
let artifacts: ArtifactStore;
let queue: RunQueue;
let canaries: [string, string, string][];

const DIST = ['sh', '-c', 'mkdir -p dist && cat VERSION > dist/VERSION'];

function source(overrides: Partial<BuildSource> = {}): BuildSource {
  return {
    name: 'catalogdetail',
    app: 'catalogdetail',
    url: bare,
    steps: [DIST],
    outputDir: 'dist',
    timeoutMs: 60_000,
    status: { forge: 'github', apiBaseUrl: forge.url, repository: 'acme/catalogdetail', token: TOKEN },
    ...overrides,
  };
}

async function open(overrides: Partial<BuildSource> = {}): Promise<void> {
  store = await RunStore.open(join(dir, 'state', 'runs'));
  artifacts = await ArtifactStore.open(join(dir, 'state', 'artifacts'));
  const startCanary: StartCanary = (app, tag, artifactDir) => {
    canaries.push([app, tag, artifactDir]);
    return Promise.resolve();
  };
  queue = new RunQueue({
    store,
    executors: {
      build: buildFlow({
        buildSource: (name) => (name === 'catalogdetail' ? source(overrides) : undefined),
        cacheRoot: join(dir, 'state', 'git'),
        workRoot: join(dir, 'builds'),
        artifacts,
        startCanary,
        killGraceMs: 100,
      }),
    },
  });
}

const pushTag = (tag: string, version: string, force = false) =>
  pushAnnotatedTag(repo, bare, tag, version, force);

async function build(tag: string, after: string): Promise<RunRecord> {
  const run = await queue.enqueue({
    pipeline: 'build',
    source: 'catalogdetail',
    ref: `refs/tags/${tag}`,
    after,
  });
  return store.finished(run.id);
}

const logOf = (run: RunRecord): Promise<string> => readFile(store.logPath(run.id), 'utf8');

beforeEach(async () => {
  dir = await makeTemporaryDir('build-flow');
  bare = await createBareRepository(dir, 'catalogdetail');
  repo = await createTestRepository(dir);
  forge = await startFakeForge();
  canaries = [];
  await open();
  await queue.start();
});

afterEach(async () => {
  await queue.close({ abort: true });
  await forge.close();
  await removeTemporaryDir(dir);
});

describe('build flow', () => {
  it('builds an annotated v2.0.0 and indexes the artifact to the peeled commit, with statuses', async () => {
    const { after, commit } = await pushTag('v2.0.0', '2.0.0');
    expect(after).not.toBe(commit);
    const run = await build('v2.0.0', after);
    expect(run).toMatchObject({ state: 'succeeded', commit, artifact: { tag: 'v2.0.0' } });
    expect(artifacts.entry('catalogdetail', 'v2.0.0')).toMatchObject({
      commit,
      digest: run.artifact!.digest,
    });
    const artifactDir = (await artifacts.resolve('catalogdetail', 'v2.0.0'))!;
    expect(await readFile(join(artifactDir, 'VERSION'), 'utf8')).toBe('2.0.0\n');
    expect(forge.requests.map((r) => [r.path, r.body.state, r.body.context])).toEqual([
      [`/repos/acme/catalogdetail/statuses/${commit}`, 'pending', 'aviary/build'],
      [`/repos/acme/catalogdetail/statuses/${commit}`, 'success', 'aviary/build'],
    ]);
    expect(await readdir(join(dir, 'builds'))).toEqual([]);
    expect(await logOf(run)).not.toContain(TOKEN);
  });

  it("publishes the whole exported tree with the default output '.', and no build steps", async () => {
    await queue.close();
    await open({ outputDir: '.', steps: [] });
    await queue.start();
    const { after } = await pushTag('v3.0.0', '3.0.0');
    const run = await build('v3.0.0', after);
    expect(run, await logOf(run)).toMatchObject({ state: 'succeeded' });
    const artifactDir = (await artifacts.resolve('catalogdetail', 'v3.0.0'))!;
    expect(await readFile(join(artifactDir, 'VERSION'), 'utf8')).toBe('3.0.0\n');
    expect(await readdir(artifactDir)).not.toContain('.git');
  });

  it('publishes nothing when a step fails, and reports failure', async () => {
    await queue.close();
    await open({ steps: [DIST, ['sh', '-c', 'exit 2']] });
    await queue.start();
    const { after } = await pushTag('v3.0.0', '3');
    const run = await build('v3.0.0', after);
    expect(run).toMatchObject({ state: 'failed', reason: 'step 2 exited with code 2' });
    expect(artifacts.list()).toEqual([]);
    expect(forge.requests.at(-1)!.body).toMatchObject({
      state: 'failure',
      description: 'v3.0.0: step 2 exited with code 2',
    });
  });

  it('publishes nothing when the build times out, and leaves no grandchild running', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    await queue.close();
    await open({ steps: [DIST, ['sh', '-c', `sleep 300 & echo $! > ${pidFile}; wait`]], timeoutMs: 1_500 });
    await queue.start();
    const { after } = await pushTag('v4.0.0', '4');
    const run = await build('v4.0.0', after);
    expect(run).toMatchObject({ state: 'timed-out', reason: 'step 2 timed out' });
    expect(artifacts.list()).toEqual([]);
    expect(await isPidAlive(Number(await readFile(pidFile, 'utf8')))).toBe(false);
  });

  it('builds two tags pushed at once in turn, each with its own log', async () => {
    const one = await pushTag('v1.0.0', 'one');
    const two = await pushTag('v1.1.0', 'two');
    const first = await queue.enqueue({
      pipeline: 'build',
      source: 'catalogdetail',
      ref: 'refs/tags/v1.0.0',
      after: one.after,
    });
    const second = await queue.enqueue({
      pipeline: 'build',
      source: 'catalogdetail',
      ref: 'refs/tags/v1.1.0',
      after: two.after,
    });
    const [a, b] = await Promise.all([store.finished(first.id), store.finished(second.id)]);
    expect([a.state, b.state]).toEqual(['succeeded', 'succeeded']);
    expect(b.startedAt! >= a.endedAt!).toBe(true);
    expect(await logOf(a)).toContain(`commit ${one.commit}`);
    expect(await logOf(a)).not.toContain(two.commit);
    expect(await logOf(b)).toContain(`commit ${two.commit}`);
    expect(artifacts.list().map((e) => e.tag)).toEqual(['v1.0.0', 'v1.1.0']);
  });

  it('refuses a force-moved tag before building, and a push whose after is not the fetched tag', async () => {
    const first = await pushTag('v2.0.0', 'original');
    expect((await build('v2.0.0', first.after)).state).toBe('succeeded');
    const moved = await pushTag('v2.0.0', 'moved', true);
    const refused = await build('v2.0.0', moved.after);
    expect(refused.state).toBe('failed');
    expect(refused.reason).toMatch(/already published from commit .*Tags are immutable/);
    expect(await logOf(refused)).not.toContain('[step');
    const dirOfTag = (await artifacts.resolve('catalogdetail', 'v2.0.0'))!;
    expect(await readFile(join(dirOfTag, 'VERSION'), 'utf8')).toBe('original\n');

    const stale = await build('v2.0.0', first.after);
    expect(stale.reason).toMatch(/the push said .*; the tag moved/);
  });

  it('reuses the artifact of a re-tagged commit without building', async () => {
    const { after, commit } = await pushTag('v5.0.0', '5');
    const built = await build('v5.0.0', after);
    await repo.git('tag', '-a', 'v5.0.0-ga', '-m', 'ga', commit);
    await repo.git('push', '--quiet', bare, 'refs/tags/v5.0.0-ga');
    const retagged = await build('v5.0.0-ga', await repo.git('rev-parse', 'refs/tags/v5.0.0-ga'));
    expect(retagged).toMatchObject({ state: 'succeeded', reason: 'reused the artifact of tag v5.0.0' });
    expect(retagged.artifact!.digest).toBe(built.artifact!.digest);
    expect(await logOf(retagged)).not.toContain('[step');
  });

  it('masks a secret a build step echoes', async () => {
    await queue.close();
    await open({
      steps: [DIST, ['sh', '-c', 'echo "deploy key is $REGISTRY_PASSWORD"']],
      secrets: { REGISTRY_PASSWORD: 'pa55-w0rd-value' },
    });
    await queue.start();
    const run = await build('v6.0.0', (await pushTag('v6.0.0', '6')).after);
    expect(run.state).toBe('succeeded');
    const log = await logOf(run);
    expect(log).toContain('deploy key is ***\n');
    expect(log).not.toContain('pa55-w0rd-value');
  });

  it('starts a canary of a published tag when onPublish is canary', async () => {
    await queue.close();
    await open({ onPublish: 'canary' });
    await queue.start();
    const run = await build('v7.0.0', (await pushTag('v7.0.0', '7')).after);
    expect(run.state).toBe('succeeded');
    expect(canaries).toEqual([
      ['catalogdetail', 'v7.0.0', (await artifacts.resolve('catalogdetail', 'v7.0.0'))!],
    ]);
  });

  it('logs a status that cannot be posted and still succeeds, the token never in the log', async () => {
    await forge.close();
    forge = await startFakeForge(() => ({ status: 500, body: `{"echo":"${TOKEN}"}` }));
    await queue.close();
    await open();
    await queue.start();
    const run = await build('v8.0.0', (await pushTag('v8.0.0', '8')).after);
    expect(run.state).toBe('succeeded');
    const log = await logOf(run);
    expect(log).toContain('[status] aviary/build success not posted: github status aviary/build');
    expect(log).toContain('HTTP 500');
    expect(log).not.toContain(TOKEN);
  });
});
