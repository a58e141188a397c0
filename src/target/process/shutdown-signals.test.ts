import { describe, expect, it } from 'vitest';
import { installSignalHandlers } from './shutdown-signals.js';

/** A target whose close() the test finishes by hand, recording the signal it was given. */
function closableTarget() {
  let finish: () => void = () => undefined;
  const calls: AbortSignal[] = [];
  return {
    calls,
    finish: () => finish(),
    close(signal?: AbortSignal): Promise<void> {
      if (signal !== undefined) calls.push(signal);
      return new Promise<void>((resolve) => {
        finish = resolve;
      });
    },
  };
}

describe('installSignalHandlers', () => {
  it('closes the target on the first signal, hurries it on the second, then hands over', async () => {
    const target = closableTarget();
    const shutdowns: string[] = [];
    installSignalHandlers(target, { signals: ['SIGUSR2'], onShutdown: (signal) => shutdowns.push(signal) });
    expect(process.listenerCount('SIGUSR2')).toBe(1);

    process.emit('SIGUSR2', 'SIGUSR2');
    expect(target.calls).toHaveLength(1);
    expect(target.calls[0]?.aborted).toBe(false);
    process.emit('SIGUSR2', 'SIGUSR2');
    expect(target.calls).toHaveLength(1);
    expect(target.calls[0]?.aborted).toBe(true);

    expect(shutdowns).toEqual([]);
    target.finish();
    await new Promise((resolve) => setImmediate(resolve));
    expect(shutdowns).toEqual(['SIGUSR2']);
    expect(process.listenerCount('SIGUSR2')).toBe(0);
  });

  it('can be uninstalled before any signal', () => {
    const uninstall = installSignalHandlers(closableTarget(), {
      signals: ['SIGUSR2'],
      onShutdown: () => undefined,
    });
    uninstall();
    expect(process.listenerCount('SIGUSR2')).toBe(0);
  });
});
