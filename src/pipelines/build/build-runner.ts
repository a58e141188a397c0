/**
 * The build runner: an app's configured steps, each an argv array run in order in the
 * exported work directory, stopping at the first failure, under one time limit for the
 * whole build. Each step gets a scrubbed environment: PATH and the variables the app
 * configured, nothing inherited from the controller (no tokens, no HOME), and a temporary
 * HOME made for this build and removed after it. See docs/adr/0023-git-pipelines.md.
 */
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildError } from './build-error.js';
import { BuildLog } from './build-log.js';
import { runStep, type StepEnd } from './step-process.js';

/** How a build ended. */
export type BuildOutcome = 'succeeded' | 'failed' | 'timed-out' | 'cancelled';

/** What {@link runBuild} runs. */
export interface BuildOptions {
  /** The directory every step runs in (the exported tree). */
  readonly workDir: string;
  /** Argv arrays, run in order; never passed to a shell. At least one. */
  readonly steps: readonly (readonly string[])[];
  /** Time limit of the whole build, in milliseconds; on expiry the running step's group is killed. */
  readonly timeoutMs: number;
  /** Variables the steps get besides PATH and HOME (a PATH here replaces the controller's). */
  readonly env?: Readonly<Record<string, string>>;
  /** Values replaced by `***` wherever they appear in the log. Security: include every secret passed in `env`. */
  readonly secrets?: readonly string[];
  /** The run's log file, appended to (created 0600). */
  readonly logFile: string;
  /** Aborting cancels the build: the running step's group is killed. */
  readonly signal?: AbortSignal;
  /** Between SIGTERM and SIGKILL of a step's group; default 2000 ms. */
  readonly killGraceMs?: number;
}

/** How a build ended and, unless it succeeded, at which step (0-based) and how. */
export interface BuildResult {
  readonly outcome: BuildOutcome;
  readonly failedStep?: number;
  readonly exitCode?: number;
  readonly signal?: NodeJS.Signals;
}

const DEFAULT_KILL_GRACE_MS = 2_000;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkedSteps(steps: readonly (readonly string[])[]): (readonly [string, ...string[]])[] {
  if (steps.length === 0)
    throw new BuildError('AVIARY_BUILD_INVALID_OPTION', 'steps: expected at least one step');
  return steps.map((argv, index) => {
    const [command, ...args] = argv;
    if (command === undefined || command === '')
      throw new BuildError(
        'AVIARY_BUILD_INVALID_OPTION',
        `steps[${index}]: expected an argv array with a command`,
      );
    if (argv.some((arg) => arg.includes('\0')))
      throw new BuildError(
        'AVIARY_BUILD_INVALID_OPTION',
        `steps[${index}]: an argument contains a NUL character`,
      );
    return [command, ...args];
  });
}

function stepEnvironment(home: string, env: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name) || value.includes('\0'))
      throw new BuildError(
        'AVIARY_BUILD_INVALID_OPTION',
        `env.${name}: expected a variable name and a value without NUL`,
      );
  }
  return { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', ...env, HOME: home };
}

function shown(argv: readonly string[]): string {
  return argv.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg))).join(' ');
}

function describeEnd(end: StepEnd, timeoutMs: number): string {
  switch (end.kind) {
    case 'exited':
      return `exited with code ${end.code}`;
    case 'signalled':
      return `was killed by ${end.signal}`;
    case 'spawn-failed':
      return `failed to start: ${end.message}`;
    case 'timed-out':
      return `timed out (the build's limit is ${timeoutMs} ms); its process group was killed`;
    case 'cancelled':
      return 'was cancelled; its process group was killed';
  }
}

function resultOf(end: StepEnd, step: number): BuildResult {
  switch (end.kind) {
    case 'exited':
      return { outcome: 'failed', failedStep: step, exitCode: end.code };
    case 'signalled':
      return { outcome: 'failed', failedStep: step, signal: end.signal };
    case 'spawn-failed':
      return { outcome: 'failed', failedStep: step };
    case 'timed-out':
    case 'cancelled':
      return { outcome: end.kind, failedStep: step };
  }
}

/**
 * Runs a build's steps and resolves how it ended; rejects only for invalid options (a
 * {@link BuildError} naming the option) or a log file that cannot be opened.
 */
export async function runBuild(options: BuildOptions): Promise<BuildResult> {
  const steps = checkedSteps(options.steps);
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0)
    throw new BuildError(
      'AVIARY_BUILD_INVALID_OPTION',
      `timeoutMs: expected a positive number, got ${options.timeoutMs}`,
    );
  const killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const home = await mkdtemp(join(tmpdir(), 'aviary-build-home-'));
  try {
    const env = stepEnvironment(home, options.env ?? {});
    const log = await BuildLog.open(options.logFile, options.secrets ?? []);
    try {
      const deadline = Date.now() + options.timeoutMs;
      for (const [index, argv] of steps.entries()) {
        const label = `[step ${index + 1}/${steps.length}]`;
        const remainingMs = deadline - Date.now();
        if (options.signal?.aborted === true || remainingMs <= 0) {
          const outcome = remainingMs <= 0 ? 'timed-out' : 'cancelled';
          log.line(
            `${label} not started: the build was ${outcome === 'cancelled' ? 'cancelled' : 'out of time'}`,
          );
          log.line(`[build] ${outcome}`);
          return { outcome, failedStep: index };
        }
        log.line(`${label} $ ${shown(argv)}`);
        const end = await runStep({
          argv,
          cwd: options.workDir,
          env,
          log,
          remainingMs,
          killGraceMs,
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        });
        if (end.kind === 'exited' && end.code === 0) continue;
        log.line(`${label} ${describeEnd(end, options.timeoutMs)}`);
        const result = resultOf(end, index);
        log.line(`[build] ${result.outcome}`);
        return result;
      }
      log.line('[build] succeeded');
      return { outcome: 'succeeded' };
    } finally {
      await log.close();
    }
  } finally {
    await removeHome(home);
  }
}

/** Removes the temporary HOME, first making writable what a tool left read-only (e.g. Go's module cache). */
async function removeHome(home: string): Promise<void> {
  const entries = await readdir(home, { recursive: true, withFileTypes: true }).catch(() => []);
  await Promise.all(
    entries
      .filter((entry) => entry.isDirectory())
      .map((entry) => chmod(join(entry.parentPath, entry.name), 0o700).catch(() => undefined)),
  );
  await chmod(home, 0o700).catch(() => undefined);
  await rm(home, { recursive: true, force: true });
}
