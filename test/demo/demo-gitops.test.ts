/**
 * `aviary demo --gitops` end to end through the built binary, as `npm run demo:gitops` runs
 * it: the story must hold (both tags published, a fair 50/50 split, v1 stopped once removed)
 * and the command must exit 0 by itself, leaving no version's process behind.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../cli/cli-support.js';

beforeAll(async () => {
  await ensureBuilt();
}, 240_000);

describe('aviary demo --gitops', () => {
  it('tags, builds, publishes, splits 50/50 and removes v1 from local bare repositories', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'aviary-gitops-'));
    try {
      const ports = ['--router-port', '0', '--api-port', '0', '--webhook-port', '0'];
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['bin/aviary.js', 'demo', '--gitops', '--exit-after-story', '--state-dir', stateDir, ...ports],
        { timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
      );
      const last = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
        gitops: { published: Record<string, string>; v1Pid: number; v1AliveAfterRemoval: boolean };
        pids: number[];
      };
      expect(Object.keys(last.gitops.published)).toEqual(['v1.0.0', 'v2.0.0']);
      expect(last.gitops.v1AliveAfterRemoval).toBe(false);
      expect(stdout).toContain('The story held.');
      expect(last.pids.length).toBeGreaterThan(0);
      for (const pid of [last.gitops.v1Pid, ...last.pids])
        expect(() => process.kill(pid, 0), `pid ${pid}`).toThrow();
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  }, 300_000);
});
