/**
 * Waiting in the rollout integration suites: for a condition or for processes to exit, with
 * one deadline that is generous because the machine is shared. Nothing is timed; the
 * deadline only bounds a test that would otherwise hang.
 */
import { pollFor } from '../support/poll.js';

/** Longest wait for any condition: the machine is shared, so this is generous on purpose. */
export const DEADLINE_MS = 60_000;
/** Timeout of one test: room for a few waits of {@link DEADLINE_MS}, so a failure names its wait. */
export const TEST_TIMEOUT_MS = 180_000;

/** {@link pollFor} with the rollout tests' deadline. */
export function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  describe?: () => string,
  timeoutMs = DEADLINE_MS,
): Promise<T> {
  return pollFor(what, probe, describe, timeoutMs);
}

/** True once `pid` no longer exists (`kill(pid, 0)` throws ESRCH). */
export function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Waits until every pid in `pids` is gone. */
export function waitUntilGone(pids: readonly number[]): Promise<true> {
  return waitFor(
    `processes ${pids.join(', ')} to exit`,
    () => (pids.every(isGone) ? true : undefined),
    () => `still alive: ${pids.filter((pid) => !isGone(pid)).join(', ')}`,
  );
}
