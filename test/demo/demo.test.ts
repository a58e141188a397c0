/**
 * The newcomer's demo end to end, in fast mode, through the built `aviary` binary: v2 must
 * be promoted, v3 caught by the sequential judge (on by default) and rolled back, and no
 * process — replicas or the router's own — may outlive the command.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A live pid with what it runs and its state (from /proc), so a leftover says what it is. */
function described(pid: number): string {
  const read = (file: string): string => {
    try {
      return readFileSync(`/proc/${pid}/${file}`, 'utf8');
    } catch {
      return '';
    }
  };
  const state = /\) (\S) (\d+)/.exec(read('stat'));
  return `${pid} (state ${state?.[1] ?? '?'}, parent ${state?.[2] ?? '?'}): ${read('cmdline').split('\0').join(' ').trim()}`;
}

describe('aviary demo --fast', () => {
  it.skipIf(!existsSync('dist/cli/main.js'))(
    'promotes v2, rolls back v3 and leaves no process behind',
    async () => {
      const stateDir = await mkdtemp(join(tmpdir(), 'aviary-demo-'));
      try {
        const { stdout } = await run(
          process.execPath,
          [
            'bin/aviary.js',
            'demo',
            '--fast',
            '--exit-after-story',
            '--router-port',
            '0',
            '--api-port',
            '0',
            '--state-dir',
            stateDir,
          ],
          { timeout: 240_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
        ).catch((error: Error & { stdout?: string; stderr?: string }) => {
          // The story's own lines say why it did not end as expected.
          throw new Error(`${error.message}\nstdout:\n${error.stdout ?? ''}\nstderr:\n${error.stderr ?? ''}`);
        });
        const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
          demo: { v2: string; v3: string };
          pids: number[];
        };
        expect(summary.demo).toEqual({ v2: 'Succeeded', v3: 'Failed' });
        // frontend, catalogdetail v1, v2 and v3, and the router's process.
        expect(summary.pids.length).toBeGreaterThanOrEqual(5);
        expect(summary.pids.filter(alive).map(described)).toEqual([]);
        expect(stdout).toContain('WeightAdvanced');
        // v3 is rolled back by the judge, with its evidence, before 5 failed threshold checks.
        expect(stdout).toMatch(
          /RegressionDetected: Rolling back catalogdetail: regression detected \(metric judge: regression: /,
        );
        expect(stdout).not.toContain('ThresholdReached');
        // …and printed with the judge's evidence: counts per version, each test, its bounds.
        expect(stdout).toMatch(
          /RegressionDetected: .*\n {4}judge {3}regression: .*\n {4}counts {2}primary \d+ requests/,
        );
        expect(stdout).toMatch(/\n {4}errors {2}\S+ +≥ \d+/);
        expect(stdout).toMatch(/Story told in \d+ s\./);
        // Not on a TTY: no colour escapes.
        expect(stdout.includes('\u001b[')).toBe(false);
      } finally {
        await rm(stateDir, { recursive: true, force: true });
      }
    },
    300_000,
  );
});
