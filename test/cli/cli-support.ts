/**
 * Runs the built `aviary` binary (`node bin/aviary.js`) the way a user does, with an args
 * array and no shell. `ensureBuilt` compiles `dist/` first when it is older than `src/`
 * (CI runs `npm run build` before `npm test`, so there it is a no-op); a lock directory keeps
 * test files running in parallel from compiling at the same time.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** Root of the repository. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(REPO_ROOT, 'bin', 'aviary.js');
const BUILT_MAIN = join(REPO_ROOT, 'dist', 'cli', 'main.js');
const BUILD_LOCK = join(REPO_ROOT, 'dist', '.cli-test-build.lock');
/** A lock older than this belongs to a test run that died; it is taken over. */
const STALE_LOCK_MS = 180_000;

async function newestSourceMs(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, await newestSourceMs(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
      newest = Math.max(newest, (await stat(path)).mtimeMs);
  }
  return newest;
}

async function isFresh(): Promise<boolean> {
  const built = await stat(BUILT_MAIN).catch(() => undefined);
  return built !== undefined && built.mtimeMs >= (await newestSourceMs(join(REPO_ROOT, 'src')));
}

function compile(): Promise<string> {
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  return new Promise((resolve) => {
    // tsc still emits when another module has type errors; freshness is checked afterwards.
    execFile(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: REPO_ROOT }, (_err, stdout) =>
      resolve(stdout),
    );
  });
}

/** Compiles `dist/` unless it is newer than every source file. */
export async function ensureBuilt(): Promise<void> {
  await mkdir(join(REPO_ROOT, 'dist'), { recursive: true });
  const deadline = Date.now() + 2 * STALE_LOCK_MS;
  while (!(await isFresh())) {
    if (Date.now() > deadline) throw new Error('gave up waiting for the build lock');
    try {
      await mkdir(BUILD_LOCK);
    } catch {
      const lock = await stat(BUILD_LOCK).catch(() => undefined);
      if (lock && Date.now() - lock.mtimeMs > STALE_LOCK_MS)
        await rm(BUILD_LOCK, { recursive: true, force: true });
      await delay(200);
      continue;
    }
    try {
      const output = await compile();
      if (!(await isFresh())) throw new Error(`tsc -p tsconfig.build.json did not refresh dist/:\n${output}`);
    } finally {
      await rm(BUILD_LOCK, { recursive: true, force: true });
    }
  }
}

/** Outcome of one CLI run. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Environment for the CLI: this process's, minus anything that would change its behaviour. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['AVIARY_TOKEN', 'AVIARY_API', 'NO_COLOR', 'FORCE_COLOR']) delete env[name];
  return { ...env, ...extra };
}

/** Runs `aviary ...args` to completion. */
export function runCli(
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: options.cwd ?? REPO_ROOT, env: cliEnv(options.env), timeout: 30_000 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number')
          return reject(new Error(`aviary ${args.join(' ')}`, { cause: err }));
        resolve({ code: typeof err?.code === 'number' ? err.code : 0, stdout, stderr });
      },
    );
  });
}

/** A running `aviary` process whose output is collected. */
export interface CliProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Polls until the collected stdout satisfies `predicate` (generous deadline). */
  waitForStdout(predicate: (text: string) => boolean, what: string): Promise<string>;
  /** Resolves with the exit code (signals as 128 + n never happen here: the CLI handles them). */
  exited: Promise<number | null>;
}

/** Starts `aviary ...args` in the background. */
export function spawnCli(
  args: readonly string[],
  options: { env?: Record<string, string> } = {},
): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: REPO_ROOT,
    env: cliEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitForStdout(predicate, what) {
      const deadline = Date.now() + 20_000;
      while (!predicate(out)) {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`aviary ${args.join(' ')}: no ${what}; stdout:\n${out}\nstderr:\n${err}`);
        await delay(50);
      }
      return out;
    },
  };
}

/** True when `text` holds an ANSI escape sequence. */
export function hasAnsi(text: string): boolean {
  return text.includes('\u001b[');
}
