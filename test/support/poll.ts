/**
 * Waiting on a condition in integration tests: conditions are awaited, never timed; the
 * deadline only bounds a test that would otherwise hang, and its error says what it waited for.
 */

/**
 * Polls `probe` every 50 ms until it returns a value; throws after `timeoutMs` naming `what`
 * and, when given, the state `describe` reports.
 */
export async function pollFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  describe: (() => string) | undefined,
  timeoutMs: number,
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
      const detail = describe?.() ?? (lastError instanceof Error ? lastError.message : '');
      throw new Error(`timed out waiting for ${what}\n${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
