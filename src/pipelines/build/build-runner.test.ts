import { access, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPidAlive } from '../../target/process/process-group.js';
import { makeTemporaryDir, removeTemporaryDir } from '../git/git-test-support.js';
import { BuildError } from './build-error.js';
import { runBuild, type BuildOptions } from './build-runner.js';

let dir: string;
let workDir: string;
let logFile: string;

beforeEach(async () => {
  dir = await makeTemporaryDir('build');
  workDir = dir;
  logFile = join(dir, 'logs', 'run-1.log');
});

afterEach(async () => {
  await removeTemporaryDir(dir);
});

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

function build(options: Partial<BuildOptions> & Pick<BuildOptions, 'steps'>): ReturnType<typeof runBuild> {
  return runBuild({ workDir, logFile, timeoutMs: 60_000, killGraceMs: 200, ...options });
}

async function waitForFile(path: string): Promise<string> {
  for (;;) {
    const text = await readFile(path, 'utf8').catch(() => '');
    if (text.endsWith('\n')) return text.trim();
    await sleep(20);
  }
}

/** A step that starts a grandchild, records its pid, and waits for it. */
const grandchildStep = (extra = ''): string[] => ['sh', '-c', `${extra}sleep 300 & echo $! > pidfile; wait`];

describe('build runner', () => {
  it('runs the steps in order in the work directory and succeeds', async () => {
    const result = await build({
      steps: [
        ['sh', '-c', 'echo one > order'],
        ['sh', '-c', 'echo two >> order'],
      ],
    });
    expect(result).toEqual({ outcome: 'succeeded' });
    expect(await readFile(join(workDir, 'order'), 'utf8')).toBe('one\ntwo\n');
    expect(await readFile(logFile, 'utf8')).toContain('[build] succeeded');
  });

  it('gives each step PATH, the configured variables and a temporary HOME, removed afterwards', async () => {
    process.env.CONTROLLER_ONLY_TOKEN = 'must-not-leak';
    try {
      const script = "require('node:fs').writeFileSync('env.json', JSON.stringify(process.env))";
      const result = await build({
        steps: [[process.execPath, '-e', script]],
        env: { NODE_ENV: 'production' },
      });
      expect(result.outcome).toBe('succeeded');
    } finally {
      delete process.env.CONTROLLER_ONLY_TOKEN;
    }
    const env = JSON.parse(await readFile(join(workDir, 'env.json'), 'utf8')) as Record<string, string>;
    expect(Object.keys(env).sort()).toEqual(['HOME', 'NODE_ENV', 'PATH']);
    expect(env.NODE_ENV).toBe('production');
    expect(env.HOME).not.toBe(homedir());
    expect(await exists(env.HOME!)).toBe(false);
  });

  it('stops at the first failing step and reports its index and exit code', async () => {
    const result = await build({ steps: [['true'], ['sh', '-c', 'exit 3'], ['touch', 'never']] });
    expect(result).toEqual({ outcome: 'failed', failedStep: 1, exitCode: 3 });
    expect(await exists(join(workDir, 'never'))).toBe(false);
    expect(await readFile(logFile, 'utf8')).toContain('[step 2/3] exited with code 3');
  });

  it('fails a step whose command does not exist', async () => {
    const result = await build({ steps: [['aviary-no-such-command-here']] });
    expect(result).toEqual({ outcome: 'failed', failedStep: 0 });
    expect(await readFile(logFile, 'utf8')).toMatch(/failed to start: .*ENOENT/);
  });

  it('never passes a step to a shell', async () => {
    const result = await build({ steps: [['echo', '$HOME; touch pwned']] });
    expect(result.outcome).toBe('succeeded');
    expect(await readFile(logFile, 'utf8')).toContain('$HOME; touch pwned\n');
    expect(await exists(join(workDir, 'pwned'))).toBe(false);
  });

  it('kills the whole process group on the time limit, a grandchild that ignores SIGTERM included', async () => {
    const result = await build({ steps: [grandchildStep("trap '' TERM; ")], timeoutMs: 3_000 });
    expect(result).toEqual({ outcome: 'timed-out', failedStep: 0 });
    const grandchild = Number(await waitForFile(join(workDir, 'pidfile')));
    expect(grandchild).toBeGreaterThan(0);
    expect(await isPidAlive(grandchild)).toBe(false);
    expect(await readFile(logFile, 'utf8')).toContain('timed out');
  });

  it('kills the whole process group on cancel', async () => {
    const cancel = new AbortController();
    const running = build({ steps: [grandchildStep(), ['touch', 'never']], signal: cancel.signal });
    const grandchild = Number(await waitForFile(join(workDir, 'pidfile')));
    expect(await isPidAlive(grandchild)).toBe(true);
    cancel.abort();
    expect(await running).toEqual({ outcome: 'cancelled', failedStep: 0 });
    expect(await isPidAlive(grandchild)).toBe(false);
    expect(await exists(join(workDir, 'never'))).toBe(false);
  });

  it('kills what a successful step left running in its group', async () => {
    const result = await build({ steps: [['sh', '-c', 'sleep 300 & echo $! > pidfile']] });
    expect(result.outcome).toBe('succeeded');
    expect(await isPidAlive(Number(await waitForFile(join(workDir, 'pidfile'))))).toBe(false);
  });

  it('starts no step once cancelled', async () => {
    const cancel = new AbortController();
    cancel.abort();
    const result = await build({ steps: [['touch', 'never']], signal: cancel.signal });
    expect(result).toEqual({ outcome: 'cancelled', failedStep: 0 });
    expect(await exists(join(workDir, 'never'))).toBe(false);
  });

  it('masks secret values in the log, a secret split across two writes and the step argv included', async () => {
    const secret = 'hunter2-s3cret';
    const result = await build({
      steps: [
        ['sh', '-c', 'printf "token=%s" "$PART_A"; sleep 0.3; printf "%s\\n" "$PART_B"'],
        ['sh', '-c', 'echo "$API_TOKEN" >&2'],
        ['echo', `--password=${secret}`],
      ],
      env: { API_TOKEN: 'tok-987654', PART_A: 'hunter2', PART_B: '-s3cret' },
      secrets: [secret, 'tok-987654'],
    });
    expect(result.outcome).toBe('succeeded');
    const log = await readFile(logFile, 'utf8');
    expect(log).not.toContain('hunter2');
    expect(log).not.toContain('tok-987654');
    expect(log).toContain('token=***\n');
    expect(log).toContain('--password=***');
    expect(log.match(/\*\*\*/g)).toHaveLength(4);
  });

  it('refuses options it cannot run, naming the option', async () => {
    await expect(build({ steps: [] })).rejects.toThrow(/^steps: /);
    await expect(build({ steps: [['true'], []] })).rejects.toThrow(/^steps\[1\]: /);
    await expect(build({ steps: [['true']], timeoutMs: 0 })).rejects.toThrow(/^timeoutMs: /);
    const error = await build({ steps: [['true']], env: { 'BAD=NAME': 'x' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildError);
    expect((error as BuildError).code).toBe('AVIARY_BUILD_INVALID_OPTION');
  });
});
