/**
 * Everything one chaos run starts, so that it is all undone when the run ends, passed or
 * failed: child processes (each in its own process group), temporary directories and
 * cleanups. Every process a run starts carries `AVIARY_CHAOS_RUN=<id>` in its environment,
 * and so do the replicas Aviary starts for it (their `env` in aviary.yaml), so anything
 * still alive after the cleanups is found in /proc, reported as left behind, and killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { markedProcesses } from '../test/support/marked-processes.js';

/** The environment variable that marks every process of one run. */
export const RUN_MARKER = 'AVIARY_CHAOS_RUN';

/** Process groups of every run still going, for the last-resort kill when the runner dies. */
const liveGroups = new Set<number>();
/** Every run still going, for {@link closeEveryRunNow}. */
const liveScopes = new Set<RunScope>();

/** SIGKILLs every process group a run started and has not stopped (runner exit). */
export function killEveryGroupNow(): void {
  for (const pgid of liveGroups) signalGroup(pgid, 'SIGKILL');
  liveGroups.clear();
}

/**
 * Ends every run still going (the runner got a signal), as {@link RunScope.close} does: not
 * only their process groups but every process carrying their marker, and their cleanups
 * (temporary directories, tmpfs mounts). Groups alone are not enough: `aviary up` starts its
 * proxy in a group of its own, so that traffic outlives a killed controller.
 */
export async function closeEveryRunNow(): Promise<void> {
  await Promise.all([...liveScopes].map((scope) => scope.close()));
  killEveryGroupNow();
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is gone
  }
}

/** A child in its own process group, its output collected. */
export interface ChaosProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves once the process has exited. */
  readonly exited: Promise<void>;
  readonly output: () => string;
  /** True once the process has exited. */
  readonly hasExited: () => boolean;
}

/** What one run started; {@link RunScope.close} undoes it all. */
export class RunScope {
  /** The value of {@link RUN_MARKER} for this run's processes. */
  readonly marker = randomUUID();
  /** Process groups this run started, by leader pid, with the leader's exit. */
  readonly #groups = new Map<number, Promise<void>>();
  readonly #cleanups: (() => Promise<void> | void)[] = [];

  constructor() {
    liveScopes.add(this);
  }

  /** The environment a run's child should get: PATH, HOME and the run's marker, plus `extra`. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      [RUN_MARKER]: this.marker,
      ...extra,
    };
  }

  /**
   * Starts `command args` in a new process group (never through a shell) with {@link env}
   * and `env`; its group is SIGKILLed when the run ends if it still runs.
   */
  spawn(
    command: string,
    args: readonly string[],
    env: Record<string, string> = {},
    cwd?: string,
  ): ChaosProcess {
    const child = spawn(command, args, {
      detached: true,
      shell: false,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: this.env(env),
      ...(cwd === undefined ? {} : { cwd }),
    });
    const pid = child.pid;
    if (pid === undefined) throw new Error(`could not start ${command}`);
    liveGroups.add(pid);
    let text = '';
    const collect = (chunk: string): void => {
      if (text.length < 256 * 1024) text += chunk;
    };
    child.stdout?.setEncoding('utf8').on('data', collect);
    child.stderr?.setEncoding('utf8').on('data', collect);
    let done = false;
    const exited = new Promise<void>((resolve) =>
      child.once('exit', () => {
        done = true;
        resolve();
      }),
    );
    this.#groups.set(pid, exited);
    return { child, pid, exited, output: () => text, hasExited: () => done };
  }

  /** A new temporary directory, removed when the run ends. */
  async tempDir(prefix = 'aviary-chaos-'): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    this.defer(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  /** Runs `fn` when the run ends, most recent first. */
  defer(fn: () => Promise<void> | void): void {
    this.#cleanups.push(fn);
  }

  /** Processes of this run still alive (found by their marker). */
  alive(): Promise<number[]> {
    return markedProcesses(RUN_MARKER, this.marker);
  }

  /**
   * Ends the run: SIGKILLs every group it started that still runs, runs the cleanups, then
   * answers the marked processes that were still alive after all that (each is killed).
   */
  async close(): Promise<{ leftBehind: number[]; errors: unknown[] }> {
    const errors: unknown[] = [];
    // Anything the scenario left running is killed first: cleanups then see no writers.
    // SIGKILL is delivered asynchronously: the run waits for those processes to go (a few
    // seconds at most) before it counts what is still alive as left behind.
    for (const pgid of this.#groups.keys()) signalGroup(pgid, 'SIGKILL');
    const deadline = Date.now() + 5_000;
    await Promise.race([Promise.all(this.#groups.values()), delay(5_000, undefined, { ref: false })]);
    let leftBehind = await this.alive();
    while (leftBehind.length > 0 && Date.now() < deadline) {
      await delay(100);
      leftBehind = await this.alive();
    }
    for (const pid of leftBehind) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
    for (const fn of this.#cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (error) {
        errors.push(error);
      }
    }
    for (const pgid of this.#groups.keys()) liveGroups.delete(pgid);
    liveScopes.delete(this);
    return { leftBehind, errors };
  }
}
