/**
 * How `aviary up` and `aviary demo` hear that they must stop (SIGINT, SIGTERM). The handlers
 * are installed on the command's first line, so a signal that arrives while the runtime is
 * still starting, or mid-story, is remembered and acted on as soon as there is something to
 * close. Without them, Node's default action ends the process at once, and the apps, each in
 * its own process group (docs/adr/0005-process-target.md), keep running with PPID 1.
 */
import { constants } from 'node:os';
import type { Runtime } from '../runtime.js';

/**
 * Under `npm start` one Ctrl-C arrives twice: the terminal signals the whole foreground
 * group, and npm forwards the signal it got to its script. A repeat within this window is
 * the same request, not an impatient second Ctrl-C.
 */
const SAME_REQUEST_MS = 1_000;

/** A command's stop request. */
export interface StopRequest {
  /** Aborted at the first SIGINT or SIGTERM; its reason is the signal's name. */
  readonly signal: AbortSignal;
  /** Aborted at a second, separate signal: stop the processes without their grace period. */
  readonly hurry: AbortSignal;
  /** Requests the stop as `signal` would (for a cause other than a signal). */
  request(signal: NodeJS.Signals): void;
  /** Removes the handlers; a later signal takes Node's default action again. */
  dispose(): void;
}

/** Starts listening for `signals` (default SIGINT and SIGTERM); see {@link StopRequest}. */
export function listenForStop(signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): StopRequest {
  const stop = new AbortController();
  const hurry = new AbortController();
  let firstAt = 0;
  const handle = (signal: NodeJS.Signals): void => {
    if (!stop.signal.aborted) {
      firstAt = Date.now();
      stop.abort(signal);
    } else if (Date.now() - firstAt >= SAME_REQUEST_MS) {
      hurry.abort(signal);
    }
  };
  for (const signal of signals) process.on(signal, handle);
  return {
    signal: stop.signal,
    hurry: hurry.signal,
    request: handle,
    dispose: () => {
      for (const signal of signals) process.off(signal, handle);
    },
  };
}

/**
 * Also requests the stop, as a hangup, when this process's parent exits: `npm start`
 * killed with SIGKILL, or a terminal gone without a signal to us. The kernel re-parents an
 * orphan, so a changed parent pid is the sign; it is checked every `intervalMs`.
 */
export function stopWhenOrphaned(stop: StopRequest, intervalMs = 500): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) stop.request('SIGHUP');
  }, intervalMs);
  timer.unref();
  stop.signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}

/** The conventional exit status of a command a stop request ended: 128 + the signal's number (130 for SIGINT). */
export function signalExitCode(signal: AbortSignal): number {
  const name = signal.reason as NodeJS.Signals;
  return 128 + (constants.signals[name] ?? 0);
}

/** Resolves once `signal` is aborted (at once when it already is). */
export function whenAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * Waits for the stop request, then closes the runtime and removes the handlers. A hurry
 * during the close kills the processes at once. The target is closed even when an earlier
 * part of the close fails, since its processes outlive this one.
 */
export async function untilStopped(runtime: Runtime, stop: StopRequest): Promise<void> {
  await whenAborted(stop.signal);
  await closeRuntime(runtime, stop);
}

/** Closes `runtime` as {@link untilStopped} does, without waiting for a signal. */
export async function closeRuntime(runtime: Runtime, stop: StopRequest): Promise<void> {
  console.log('aviary: stopping (processes, router, API)');
  const hurry = (): void => void runtime.target.close(stop.hurry).catch(() => undefined);
  stop.hurry.addEventListener('abort', hurry, { once: true });
  try {
    await runtime.close();
  } finally {
    await runtime.target.close(stop.hurry);
    stop.hurry.removeEventListener('abort', hurry);
    stop.dispose();
  }
}
