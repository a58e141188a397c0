/**
 * Waiting in the chaos scenarios: for a condition, polled, with a deadline that only bounds
 * a run that would otherwise hang (the run's own time bound is the last resort), and never
 * beyond the run's abort signal. Nothing is timed by it.
 */

/** Default deadline of one wait: generous, the machine is shared. */
export const WAIT_MS = 60_000;

/**
 * Polls `probe` every 25 ms until it returns a value other than undefined; a probe that
 * throws is tried again. Throws naming `what` (and `describe()`) after `timeoutMs`, or
 * at once when `signal` aborts.
 */
export async function waitUntil<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  signal: AbortSignal,
  describe?: () => string,
  timeoutMs = WAIT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (signal.aborted) throw new Error(`aborted while waiting for ${what}`);
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = describe?.() ?? (lastError instanceof Error ? lastError.message : '');
      throw new Error(`timed out waiting for ${what}\n${detail.slice(-2000)}`);
    }
    await sleep(25, signal);
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
