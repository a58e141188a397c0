// `aviary pipelines list|logs|rerun|cancel` and `aviary artifacts list|gc` run as the built
// binary against a real control API with the pipeline routes (real RunStore, RunQueue and
// ArtifactStore in a temporary directory) started in this test process.
import { lstat } from 'node:fs/promises';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { appendRunLog } from '../../src/pipelines/runs/run-log.js';
import {
  commitOf,
  PIPELINES_TOKEN,
  startPipelinesControlServer,
  type PipelinesControlServer,
} from '../support/pipelines-control-server.js';
import { ensureBuilt, hasAnsi, runCli, spawnCli } from './cli-support.js';

let server: PipelinesControlServer;

beforeAll(async () => {
  await ensureBuilt();
}, 240_000);

beforeEach(async () => {
  server = await startPipelinesControlServer();
});

afterEach(async () => {
  await server.close();
});

const withToken = { env: { AVIARY_TOKEN: PIPELINES_TOKEN } };

describe('aviary pipelines list', () => {
  it('prints the runs newest first as a plain table, and --json the records', async () => {
    const built = await server.queue.enqueue({ pipeline: 'build', source: 'app', ref: 'refs/tags/v1.0.0' });
    (await server.nextHeld()).finish({
      state: 'failed',
      reason: 'step 1 exited with code 2',
      commit: commitOf('a'),
    });
    await server.store.finished(built.id);
    const release = await server.queue.enqueue({
      pipeline: 'release',
      source: 'deploy',
      ref: 'refs/heads/main',
    });
    await server.nextHeld();

    const result = await runCli(['pipelines', 'list', '--api', server.url]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +PIPELINE +SOURCE +REF +STATE +DETAIL +AGE$/);
    expect(lines[1]).toMatch(new RegExp(`^${release.id} +release +deploy +heads/main +running +\\d+s ago$`));
    expect(lines[2]).toMatch(
      new RegExp(
        `^${built.id} +build +app +tags/v1.0.0 +failed +aaaaaaaaaaaa step 1 exited with code 2 +\\d+s ago$`,
      ),
    );
    expect(hasAnsi(result.stdout)).toBe(false);

    const json = await runCli(['pipelines', 'list', '--json', '--state', 'failed', '--api', server.url]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).map((run: { id: string }) => run.id)).toEqual([built.id]);
  });

  it('refuses an unknown --state before calling the API (exit 2)', async () => {
    const result = await runCli(['pipelines', 'list', '--state', 'broken', '--api', server.url]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('expected one of queued, running, succeeded');
  });
});

describe('aviary pipelines logs', () => {
  it('-f prints lines as they are written and exits 0 when the run succeeds', async () => {
    const run = await server.queue.enqueue({ pipeline: 'build', source: 'app', ref: 'refs/tags/v2.0.0' });
    const held = await server.nextHeld();
    const cli = spawnCli(['pipelines', 'logs', '-f', run.id, '--api', server.url]);
    await cli.waitForStdout((text) => text.includes(`[test] ${run.id} started`), 'first line');
    await appendRunLog(server.store, run.id, 'step 1: npm run build');
    await cli.waitForStdout((text) => text.includes('step 1: npm run build'), 'a line written later');
    held.finish({ state: 'succeeded' });
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toMatch(/step 1: npm run build\n\[run\] succeeded\n$/);
  });

  it('-f exits 1 and says how the run ended when it did not succeed', async () => {
    const run = await server.queue.enqueue({ pipeline: 'build', source: 'app', ref: 'refs/tags/v2.0.0' });
    const held = await server.nextHeld();
    const cli = spawnCli(['pipelines', 'logs', '--follow', run.id, '--api', server.url]);
    await cli.waitForStdout((text) => text.includes('started'), 'first line');
    held.finish({ state: 'timed-out', reason: 'step 1 ran past its 10m limit' });
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain(`aviary: run ${run.id} timed-out: step 1 ran past its 10m limit`);
  });

  it('exits 4 naming an unknown run', async () => {
    const result = await runCli(['pipelines', 'logs', 'run-20200101T000000000Z-0000', '--api', server.url]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('run run-20200101T000000000Z-0000: not found');
  });
});

describe('aviary pipelines rerun and cancel', () => {
  it('cancel needs the token, ends a running run, and refuses a finished one', async () => {
    const run = await server.queue.enqueue({ pipeline: 'build', source: 'app', ref: 'refs/tags/v2.0.0' });
    await server.nextHeld();
    const refused = await runCli([
      'pipelines',
      'cancel',
      run.id,
      '--api',
      server.url,
      '--token-file',
      '/nonexistent',
    ]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('refused (401)');
    expect(server.store.require(run.id).state).toBe('running');

    const cancelled = await runCli(['pipelines', 'cancel', run.id, '--api', server.url], withToken);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toContain(`cancelled ${run.id}: failed`);
    expect(cancelled.stdout).toMatch(new RegExp(`${run.id} +build +app +tags/v2.0.0 +failed +cancelled`));
    expect(server.store.require(run.id)).toMatchObject({ state: 'failed', reason: 'cancelled' });

    const again = await runCli(['pipelines', 'cancel', run.id, '--api', server.url], withToken);
    expect(again.code).toBe(4);
    expect(again.stderr).toContain('refused (409)');
    expect(again.stderr).toContain('only a queued or running run can be cancelled');
  });

  it('rerun prints the new run', async () => {
    const run = await server.queue.enqueue({ pipeline: 'build', source: 'app', ref: 'refs/tags/v2.0.0' });
    (await server.nextHeld()).finish({ state: 'failed' });
    await server.store.finished(run.id);
    const result = await runCli(['pipelines', 'rerun', run.id, '--json', '--api', server.url], withToken);
    expect(result.code).toBe(0);
    const rerun = JSON.parse(result.stdout);
    expect(rerun).toMatchObject({ rerunOf: run.id, ref: 'refs/tags/v2.0.0' });
    expect(server.store.get(rerun.id)).toBeDefined();
  });
});

describe('aviary artifacts', () => {
  it('list prints app, tag, short commit and digest, referenced and publication time', async () => {
    const result = await runCli(['artifacts', 'list', '--api', server.url]);
    expect(result.code).toBe(0);
    const digest = server.artifacts.entry('catalogdetail', 'v2.0.0')!.digest.slice(0, 12);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^APP +TAG +COMMIT +DIGEST +REFERENCED +PUBLISHED$/);
    expect(lines[1]).toMatch(
      /^catalogdetail +v1\.0\.0 +111111111111 +[0-9a-f]{12} +yes +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/,
    );
    expect(lines[2]).toMatch(new RegExp(`^catalogdetail +v2\\.0\\.0 +222222222222 +${digest} +no +\\d{4}-`));
  });

  it('gc needs the token, removes only the unreferenced artifact and prints it', async () => {
    const kept = server.artifacts.entry('catalogdetail', 'v1.0.0')!;
    const removed = server.artifacts.entry('catalogdetail', 'v2.0.0')!;
    const refused = await runCli(['artifacts', 'gc', '--api', server.url, '--token', 'wrong']);
    expect(refused.code).toBe(4);
    expect(await server.artifacts.resolve('catalogdetail', 'v2.0.0')).toBeDefined();

    const result = await runCli(['artifacts', 'gc', '--api', server.url], withToken);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `removed catalogdetail v2.0.0\nfreed 1 artifact directory: sha256-${removed.digest.slice(0, 12)}\n`,
    );
    expect((await lstat(server.artifacts.directoryOf(kept.digest))).isDirectory()).toBe(true);
    await expect(lstat(server.artifacts.directoryOf(removed.digest))).rejects.toThrow();

    const listed = await runCli(['artifacts', 'list', '--api', server.url]);
    expect(listed.stdout).toMatch(/v2\.0\.0 +222222222222 +[0-9a-f]{12} \(collected\) +no/);
    const nothing = await runCli(['artifacts', 'gc', '--api', server.url], withToken);
    expect(nothing.stdout).toBe('nothing to remove: every stored artifact is referenced by a release\n');
  });
});
