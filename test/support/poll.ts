/**
 * Waiting on a condition in integration tests: conditions are awaited, never timed; the
 * deadline only bounds a test that would otherwise hang, and its error says what it waited for.
 */
/**
 * Polls `probe` until it returns a value other than undefined (or stops throwing), with a
 * generous deadline: conditions are awaited, never timed. Default deadline 15 s.
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      if (lastError instanceof Error) throw lastError;
      throw new Error(`condition not met within ${timeoutMs} ms`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Polls `probe` ({@link pollUntil}) until it returns a value; throws
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
