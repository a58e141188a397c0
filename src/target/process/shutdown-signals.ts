/**
 * Stops a target's children when the controller is asked to stop (SIGINT, SIGTERM), so a
 * Ctrl-C never leaves orphans. Library code must not call `process.exit`: after closing, the
 * handler hands over to `onShutdown`, whose default re-raises the signal with the handlers
 * removed, so the process ends with the conventional signal status (130/143).
 */
import type { Target } from '../target.js';

/** Options of {@link installSignalHandlers}. */
export interface SignalHandlerOptions {
  /** Signals to handle. Default SIGINT and SIGTERM. */
  readonly signals?: readonly NodeJS.Signals[];
  /**
   * Called once the target is closed (`error` set when closing failed). Default: re-raise
   * the signal so the default action ends the process. The CLI may exit with its own code.
   */
  readonly onShutdown?: (signal: NodeJS.Signals, error?: unknown) => void;
}

/**
 * On the first signal, closes `target` (SIGTERM to each process group, SIGKILL after the
 * grace period); a second signal cuts the grace period short. Returns an uninstaller.
 */
export function installSignalHandlers(
  target: Pick<Target, 'close'>,
  options: SignalHandlerOptions = {},
): () => void {
  const signals = options.signals ?? ['SIGINT', 'SIGTERM'];
  const hurry = new AbortController();
  let closing = false;
  const uninstall = (): void => {
    for (const signal of signals) process.off(signal, handle);
  };
  const finish = (signal: NodeJS.Signals, error?: unknown): void => {
    uninstall();
    if (options.onShutdown !== undefined) options.onShutdown(signal, error);
    else process.kill(process.pid, signal);
  };
  function handle(signal: NodeJS.Signals): void {
    if (closing) return hurry.abort();
    closing = true;
    target.close(hurry.signal).then(
      () => finish(signal),
      (error: unknown) => finish(signal, error),
    );
  }
  for (const signal of signals) process.on(signal, handle);
  return uninstall;
}
