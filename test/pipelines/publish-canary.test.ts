/**
 * `onPublish: canary` through `aviary up`'s runtime (issue 14, "Where artifacts are used"): a
 * tag pushed to a real bare repository is built and published, and the app then runs that
 * tag as an analysed canary: the controller's rollout progresses with a canary process whose
 * working directory is the artifact's read-only directory and whose AVIARY_TAG is the tag,
 * beside the primary it had. Then the rollout is promoted to the new revision.
 */
import { execFile } from 'node:child_process';
import { readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  createTestRepository,
  makeTemporaryDir,
  removeTemporaryDir,
} from '../../src/pipelines/git/git-test-support.js';
import {
  APP,
  catalogProcess,
  quickCanary,
  startTestRuntime,
  SUCCESS_RATE_CHECK,
  TEST_TIMEOUT_MS,
  TrafficLoop,
} from '../rollout/support.js';

const CANARY = quickCanary({ stepWeight: 50, maxWeight: 50, metrics: [SUCCESS_RATE_CHECK] });

/** The `NAME=value` pairs of a process's environment (Linux /proc). */
async function environmentOf(pid: number): Promise<string[]> {
  return (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
}

describe('onPublish: canary through the runtime', { timeout: TEST_TIMEOUT_MS }, () => {
  it('runs a published tag as an analysed canary from its artifact, then promotes it', async () => {
    const dir = await makeTemporaryDir('publish-canary');
    try {
      const bare = join(dir, 'catalogdetail.git');
      await promisify(execFile)('git', ['init', '--bare', '--quiet', '--initial-branch=main', bare]);
      await writeFile(join(dir, 'hook-secret'), 'publish-canary-secret\n', { mode: 0o600 });
      const test = await startTestRuntime(catalogProcess('1'), CANARY, {
        pipelines: {
          sources: [
            {
              name: 'catalogdetail',
              forge: 'github',
              repository: 'acme/catalogdetail',
              url: bare,
              secretFile: join(dir, 'hook-secret'),
              build: { app: APP, onPublish: 'canary' },
            },
          ],
        },
      });
      await test.waitForPhase('Initialized');
      const [primary] = await test.pids('primary');
      const traffic = TrafficLoop.start(test.runtime.routerUrl);
      await traffic.more(10);

      const repo = await createTestRepository(dir);
      await repo.commit('v2', { 'NOTES.md': 'catalogdetail v2\n' });
      await repo.git('tag', '-a', 'v2.0.0', '-m', 'v2.0.0');
      await repo.git('push', '--quiet', bare, 'main', 'refs/tags/v2.0.0');
      const { service, artifacts } = test.runtime.pipelines;
      const queued = await service!.queue.enqueue({
        pipeline: 'build',
        source: 'catalogdetail',
        ref: 'refs/tags/v2.0.0',
        after: await repo.git('rev-parse', 'refs/tags/v2.0.0'),
      });
      const run = await service!.runs.finished(queued.id);
      expect(run, run.reason).toMatchObject({ state: 'succeeded', artifact: { tag: 'v2.0.0' } });
      const artifactDir = (await artifacts.resolve(APP, 'v2.0.0'))!;

      await test.waitForPhase('Progressing');
      const [canary] = await test.pids('canary');
      expect(canary).toBeDefined();
      expect(await readlink(`/proc/${canary}/cwd`)).toBe(artifactDir);
      expect(await environmentOf(canary!)).toContain('AVIARY_TAG=v2.0.0');
      expect(await test.pids('primary')).toEqual([primary]);
      expect(await environmentOf(primary!)).not.toContain('AVIARY_TAG=v2.0.0');

      await test.waitForPhase('Succeeded');
      const [promoted] = await test.pids('primary');
      expect(await readlink(`/proc/${promoted}/cwd`)).toBe(artifactDir);
      await traffic.stop();
    } finally {
      await removeTemporaryDir(dir);
    }
  });
});
