import { describe, expect, it } from 'vitest';
import { DEFAULT_RESTART_BACKOFF, RestartBackoff } from './restart-backoff.js';

describe('RestartBackoff', () => {
  it('doubles from 200 ms and stops at 30 s by default', () => {
    const backoff = new RestartBackoff();
    const delays = Array.from({ length: 10 }, () => backoff.delayAfterExit(10));
    expect(delays).toEqual([200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 30_000, 30_000]);
  });

  it('starts over after a run that lasted the stable period', () => {
    const backoff = new RestartBackoff({ initialMs: 100, maxMs: 1000, resetAfterMs: 5000 });
    expect([backoff.delayAfterExit(0), backoff.delayAfterExit(4999), backoff.delayAfterExit(0)]).toEqual([
      100, 200, 400,
    ]);
    expect(backoff.delayAfterExit(5000)).toBe(100);
    expect(backoff.delayAfterExit(1)).toBe(200);
  });

  it('never overflows however long a replica keeps crashing', () => {
    const backoff = new RestartBackoff();
    let last = 0;
    for (let i = 0; i < 2000; i++) last = backoff.delayAfterExit(0);
    expect(last).toBe(DEFAULT_RESTART_BACKOFF.maxMs);
  });
});
