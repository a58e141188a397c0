/**
 * The seed story through `startRuntime` (issue 14): real bare repositories whose installed
 * post-receive hooks post signed webhooks to the receiver `aviary up` starts, real builds
 * published into the artifact store the release manager runs entries from, and a deploy
 * repository whose pushes set the router's split. Then what must not happen: an invalid
 * release file changes nothing, and reports failure to the forge.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  prepareGitops,
  runGitopsStory,
  type GitopsOutcome,
  type GitopsWorkspace,
} from '../../src/cli/gitops-story.js';
import { startFakeForge, type FakeForge } from '../../src/pipelines/flows/flow-test-support.js';
import { makeTemporaryDir, removeTemporaryDir } from '../../src/pipelines/git/git-test-support.js';
import { startRuntime, type Runtime } from '../../src/runtime.js';
import { findFreePort } from '../../src/target/process/free-port.js';
import { ensureBuilt } from '../cli/cli-support.js';

const TOKEN_ENV = 'GITOPS_TEST_FORGE_TOKEN';
const FORGE_TOKEN = 'forge-token-never-logged-7f3a';
const API_TOKEN = 'gitops-test-token';

let dir: string;
let forge: FakeForge;
let workspace: GitopsWorkspace;
let runtime: Runtime;
let outcome: GitopsOutcome;
const narration: string[] = [];

beforeAll(async () => {
  // The hooks run `bin/aviary.js pipelines hook deliver`, which is the compiled CLI.
  await ensureBuilt();
  dir = await makeTemporaryDir('gitops');
  forge = await startFakeForge();
  workspace = await prepareGitops({
    stateDir: dir,
    routerPort: await findFreePort(),
    apiPort: await findFreePort(),
    webhookPort: await findFreePort(),
    status: { api: forge.url, tokenEnv: TOKEN_ENV },
  });
  runtime = await startRuntime(workspace.config, {
    token: API_TOKEN,
    drainMs: 200,
    environment: { ...process.env, [TOKEN_ENV]: FORGE_TOKEN },
  });
  outcome = await runGitopsStory(runtime, workspace, (line) => narration.push(line));
}, 300_000);

afterAll(async () => {
  await runtime?.close();
  await forge?.close();
  if (dir !== undefined) await removeTemporaryDir(dir);
});

/**
 * Pushes `entries` as the deploy repository's release file and resolves its run once ended,
 * with `unchanged()` (the router's routes and generation and v2's pid are as before the
 * push) and the failure status the forge received for it.
 */
async function pushInvalidRelease(entries: { name: string; tag: string; weight: number }[]) {
  const store = runtime.pipelines.runs!;
  const routes = JSON.stringify(await runtime.router.router.getRoutes('catalogdetail'));
  const generation = runtime.proxy?.generation;
  const pid = (await runtime.target.status('catalogdetail-v2', 'primary'))?.replicas[0]?.pid;
  const before = store.list().at(-1)?.id;
  const sent = forge.requests.length;
  // Asynchronous: the receiver answering the hook runs in this process.
  const git = (...args: string[]) =>
    promisify(execFile)('git', ['-c', 'user.name=t', '-c', 'user.email=t@t.invalid', ...args], {
      cwd: workspace.deployClone,
    });
  await writeFile(join(workspace.deployClone, 'release.yaml'), stringify({ canaryConfig: entries }));
  await git('commit', '--quiet', '-am', 'a bad edit');
  await git('push', '--quiet', 'origin', 'main');
  const run = await new Promise<NonNullable<ReturnType<typeof store.get>>>((resolve) => {
    const look = () => {
      const found = store
        .list()
        .find((r) => r.source === 'deploy' && (before === undefined || r.id > before));
      if (found !== undefined && ['failed', 'succeeded'].includes(found.state)) resolve(found);
      else store.once('run', look);
    };
    look();
  });
  const unchanged = async () => {
    expect(JSON.stringify(await runtime.router.router.getRoutes('catalogdetail'))).toBe(routes);
    expect(generation).toBeGreaterThan(0);
    expect(runtime.proxy?.generation).toBe(generation);
    expect((await runtime.target.status('catalogdetail-v2', 'primary'))?.replicas[0]?.pid).toBe(pid);
  };
  const failure = forge.requests.slice(sent).find((r) => r.body.state === 'failure');
  return { run, unchanged, failure };
}

describe('the seed story through aviary up', () => {
  it('builds each pushed tag and indexes it under the peeled commit, read-only', async () => {
    const store = runtime.pipelines.artifacts;
    for (const tag of ['v1.0.0', 'v2.0.0']) {
      const entry = store.entry('catalogdetail', tag);
      expect(entry?.digest).toBe(outcome.published[tag]);
      const commit = execFileSync('git', ['rev-parse', `${tag}^{commit}`], {
        cwd: workspace.appClone,
        encoding: 'utf8',
      });
      expect(entry?.commit).toBe(commit.trim());
      const dir = await store.resolve('catalogdetail', tag);
      await expect(readFile(join(dir!, 'server.js'), 'utf8')).resolves.toContain('catalogDetail');
      // Read-only by mode (root, which CI may be, writes anyway).
      expect((await stat(join(dir!, 'server.js'))).mode & 0o222).toBe(0);
      expect((await stat(dir!)).mode & 0o222).toBe(0);
    }
  });

  it('splits traffic 50/50 after the deploy push, measured on the router', () => {
    // 200 requests at p = 0.5: the share is outside [0.35, 0.65] with probability < 2e-5.
    expect(outcome.split.v1).toBeGreaterThan(0.35);
    expect(outcome.split.v2).toBeGreaterThan(0.35);
    expect((outcome.split.v1 ?? 0) + (outcome.split.v2 ?? 0)).toBe(1);
  });

  it('drains and stops a removed version: weight 0, out of routing, then its process stopped', () => {
    expect(outcome.v1Pid).toBeGreaterThan(0);
    expect(outcome.v1AliveAfterRemoval).toBe(false);
    expect(outcome.afterRemoval).toEqual({ v2: 1 });
    const events = runtime.releases.events('catalogdetail').map((e) => `${e.reason} ${e.message}`);
    const removal = events.slice(events.findIndex((line) => line.startsWith('Draining ')));
    expect(removal).toEqual([
      'Draining v1: weight 0, requests in flight finish',
      'RemovedFromRouting v1: out of routing',
      'VersionsStopped v1: processes stopped',
    ]);
  });

  it('reports pending then success for each release to the forge, with the token and never in a log', async () => {
    const statuses = forge.requests.filter((r) => r.body.context === 'aviary/release');
    expect(statuses.map((r) => r.body.state)).toEqual([
      'pending',
      'success',
      'pending',
      'success',
      'pending',
      'success',
    ]);
    expect(statuses.every((r) => r.headers.authorization === `Bearer ${FORGE_TOKEN}`)).toBe(true);
    const builds = forge.requests.filter((r) => r.body.context === 'aviary/build').map((r) => r.body.state);
    expect(builds).toEqual(['pending', 'success', 'pending', 'success']);
    for (const run of runtime.pipelines.runs!.list())
      expect(await readFile(runtime.pipelines.runs!.logPath(run.id), 'utf8')).not.toContain(FORGE_TOKEN);
  });

  it('lists the runs and serves their logs on the control API', async () => {
    const runs = (await (await fetch(`${runtime.controlUrl}/api/v1/pipelines/runs`)).json()) as {
      id: string;
      pipeline: string;
      state: string;
    }[];
    expect(runs.map((run) => `${run.pipeline} ${run.state}`)).toEqual([
      'release succeeded',
      'release succeeded',
      'release succeeded',
      'build succeeded',
      'build succeeded',
    ]);
    const build = runs.at(-1)!;
    const log = await (await fetch(`${runtime.controlUrl}/api/v1/pipelines/runs/${build.id}/log`)).text();
    expect(log).toContain('built dist/server.js');
  });

  it('fails an invalid release file with its errors, leaves the split and processes as they were, and reports failure', async () => {
    const { run, unchanged, failure } = await pushInvalidRelease([
      { name: 'v2', tag: 'v2.0.0', weight: 50 },
      { name: 'v2', tag: 'v2.0.0', weight: 50 },
      { name: 'v3', tag: 'v2.0.0', weight: -5 },
      { name: 'v4', tag: 'v4.0.0', weight: 0 },
    ]);
    expect(run.state).toBe('failed');
    // All three faults of the file at once: a duplicate, a negative weight, a tag never built.
    expect(run.errors).toEqual([
      'canaryConfig[1].name: entry "v2": duplicate name (also canaryConfig[0])',
      'canaryConfig[2].weight: entry "v3": expected a number >= 0, got -5',
      'canaryConfig[3].tag: entry "v4": no artifact published for catalogdetail v4.0.0; publish it with a tag push (aviary artifacts list shows what is published), or name a published tag',
    ]);
    await unchanged();
    expect(failure?.body.description).toBe(`invalid: ${run.errors![0]}`);
  });

  it('fails a release naming a tag with no artifact, naming the entry, and changes nothing', async () => {
    const { run, unchanged, failure } = await pushInvalidRelease([
      { name: 'v2', tag: 'v2.0.0', weight: 50 },
      { name: 'v9', tag: 'v9.0.0', weight: 50 },
    ]);
    expect(run.state).toBe('failed');
    expect(run.errors).toEqual([
      'canaryConfig[1].tag: entry "v9": no artifact published for catalogdetail v9.0.0; publish it with a tag push (aviary artifacts list shows what is published), or name a published tag',
    ]);
    await unchanged();
    expect(failure?.body.description).toMatch(/^invalid: canaryConfig\[1\]\.tag: /);
  });

  it('collects through the control API only the artifact no running release uses', async () => {
    const gc = await fetch(`${runtime.controlUrl}/api/v1/artifacts/gc`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    expect(gc.status).toBe(200);
    const store = runtime.pipelines.artifacts;
    expect(await store.resolve('catalogdetail', 'v1.0.0')).toBeUndefined();
    const v2 = await store.resolve('catalogdetail', 'v2.0.0');
    expect(v2).toBeDefined();
    await expect(stat(join(v2!, 'server.js'))).resolves.toBeDefined();
    const answer = await fetch(`${runtime.routerUrl}/catalogDetail`);
    expect(((await answer.json()) as { version?: string }).version).toBe('2');
  });
});
