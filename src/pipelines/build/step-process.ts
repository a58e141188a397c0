/**
 * Running one build step: its argv spawned without a shell, as the leader of a new process
 * group (`detached: true`, i.e. setsid(2)), so that a time limit or a cancel can kill the
 * step and everything it started with one signal to `-pgid`. A step that exits on its own
 * has its group killed too: a build leaves nothing running behind it.
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { terminateGroup } from '../../target/process/process-group.js';
import type { BuildLog } from './build-log.js';

/** How a step ended. */
export type StepEnd =
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'signalled'; readonly signal: NodeJS.Signals }
  | { readonly kind: 'spawn-failed'; readonly message: string }
  | { readonly kind: 'timed-out' }
  | { readonly kind: 'cancelled' };

/** Where and for how long a step runs. */
export interface StepRun {
  readonly argv: readonly [string, ...string[]];
  readonly cwd: string;
  /** The whole environment of the step. */
  readonly env: NodeJS.ProcessEnv;
  readonly log: BuildLog;
  /** Milliseconds the step may still run. */
  readonly remainingMs: number;
  /** Between SIGTERM and SIGKILL of the group. */
  readonly killGraceMs: number;
  readonly signal?: AbortSignal;
}

/** Runs one step to its end; resolves once its group is gone and its output is logged. */
export async function runStep(run: StepRun): Promise<StepEnd> {
  const [command, ...args] = run.argv;
  const child = spawn(command, args, {
    cwd: run.cwd,
    env: run.env,
    detached: true,
    shell: false,
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
  });
  const outputs = Promise.all([run.log.follow(child.stdout), run.log.follow(child.stderr)]);
  const exited = new Promise<StepEnd>((resolve) => {
    child.once('error', (error) => resolve({ kind: 'spawn-failed', message: error.message }));
    child.once('exit', (code, signal) =>
      resolve(signal === null ? { kind: 'exited', code: code ?? 0 } : { kind: 'signalled', signal }),
    );
  });

  let stopped: { reason: 'timed-out' | 'cancelled'; done: Promise<boolean> } | undefined;
  const stop = (reason: 'timed-out' | 'cancelled'): void => {
    if (stopped !== undefined || child.pid === undefined) return;
    stopped = { reason, done: terminateGroup(child.pid, run.killGraceMs) };
  };
  const timer = setTimeout(() => stop('timed-out'), Math.max(0, run.remainingMs));
  const onAbort = (): void => stop('cancelled');
  if (run.signal?.aborted === true) onAbort();
  else run.signal?.addEventListener('abort', onAbort, { once: true });

  const end = await exited;
  clearTimeout(timer);
  run.signal?.removeEventListener('abort', onAbort);
  if (child.pid !== undefined) {
    // Whatever the step left in its group (a background job, a daemon) goes with it.
    const gone = await (stopped?.done ?? terminateGroup(child.pid, run.killGraceMs));
    if (!gone) run.log.line(`[build] process group ${child.pid} still has members after SIGKILL`);
  }
  await settleOutputs(outputs, [child.stdout, child.stderr], run.killGraceMs);
  return stopped === undefined ? end : { kind: stopped.reason };
}

/**
 * Waits for the step's pipes to end. A process that left the group (setsid) may still hold
 * them open; after the grace period they are closed from this side instead.
 */
async function settleOutputs(
  outputs: Promise<unknown>,
  pipes: readonly { destroy(): void }[],
  graceMs: number,
): Promise<void> {
  const grace = new AbortController();
  const ended = await Promise.race([
    outputs.then(() => true),
    sleep(graceMs, false, { signal: grace.signal }).catch(() => false),
  ]);
  grace.abort();
  if (!ended) for (const pipe of pipes) pipe.destroy();
  await outputs;
}
