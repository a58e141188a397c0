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
    token: 'gitops-test-token',
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

  it('drains and stops a removed version', () => {
    expect(outcome.v1Pid).toBeGreaterThan(0);
    expect(outcome.v1AliveAfterRemoval).toBe(false);
    expect(outcome.afterRemoval).toEqual({ v2: 1 });
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
    const store = runtime.pipelines.runs!;
    const routes = JSON.stringify(await runtime.router.router.getRoutes('catalogdetail'));
    const pid = (await runtime.target.status('catalogdetail-v2', 'primary'))?.replicas[0]?.pid;
    const before = store.list().at(-1)?.id;
    const sent = forge.requests.length;
    const bad = [
      { name: 'v2', tag: 'v2.0.0', weight: 105 },
      { name: 'v2', tag: 'v2.0.0', weight: -5 },
      { name: 'v9', tag: 'v9.0.0', weight: 0 },
    ];
    // Asynchronous: the receiver answering the hook runs in this process.
    const git = (...args: string[]) =>
      promisify(execFile)('git', ['-c', 'user.name=t', '-c', 'user.email=t@t.invalid', ...args], {
        cwd: workspace.deployClone,
      });
    await writeFile(join(workspace.deployClone, 'release.yaml'), stringify({ canaryConfig: bad }));
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
    expect(run.state).toBe('failed');
    expect(run.errors?.join('\n')).toMatch(/canaryConfig\[1\]/);
    expect(JSON.stringify(await runtime.router.router.getRoutes('catalogdetail'))).toBe(routes);
    expect((await runtime.target.status('catalogdetail-v2', 'primary'))?.replicas[0]?.pid).toBe(pid);
    const failure = forge.requests.slice(sent).find((r) => r.body.state === 'failure');
    expect(failure?.body.description).toMatch(/canaryConfig/);
  });
});
