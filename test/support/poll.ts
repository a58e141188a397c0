/**
 * Waiting on a condition in integration tests: conditions are awaited, never timed; the
 * deadline only bounds a test that would otherwise hang, and its error says what it waited for.
 */
import { pollUntil } from '../../src/target/conformance.js';

/**
 * Polls `probe` (the conformance suites' {@link pollUntil}) until it returns a value; throws
 * after `timeoutMs` naming `what` and the state `describe` reports, or else the last error.
 */
export async function pollFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  describe: (() => string) | undefined,
  timeoutMs: number,
): Promise<T> {
  try {
    return await pollUntil(probe, timeoutMs);
  } catch (error) {
    const detail = describe?.() ?? (error instanceof Error ? error.message : '');
    throw new Error(`timed out waiting for ${what}\n${detail}`, { cause: error });
  }
}
