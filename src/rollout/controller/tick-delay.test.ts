import { describe, expect, it } from 'vitest';
import { appSpec, statusIn } from '../../../test/support/rollout-scenario.js';
import { MIN_TICK_MS, nextTickDelay } from './tick-delay.js';

const NOW = 600_000;
const MAX = 1_000;
const judged = (lookInterval: string) =>
  appSpec({ canary: { analysis: { interval: '1m', stepWeight: 10, judge: { lookInterval } } } });
const progressing = (s = judged('1s'), nextCheckAt = NOW + 50_000) =>
  statusIn(s, 'Progressing', { canaryWeight: 10, nextCheckAt });

describe('nextTickDelay', () => {
  it('waits for the next look when it comes before maxTickMs', () => {
    const s = judged('250ms');
    expect(nextTickDelay(s, progressing(s), NOW - 100, NOW, MAX)).toBe(150);
  });

  it('ticks almost at once for a look that is due or never ran (after a restart)', () => {
    expect(nextTickDelay(judged('1s'), progressing(), undefined, NOW, MAX)).toBe(MIN_TICK_MS);
    expect(nextTickDelay(judged('1s'), progressing(), NOW - 5_000, NOW, MAX)).toBe(MIN_TICK_MS);
  });

  it('caps the wait at maxTickMs, for a far look as for a far check', () => {
    const s = judged('1m');
    expect(nextTickDelay(s, progressing(s), NOW, NOW, MAX)).toBe(MAX);
  });

  it('waits for the check when it comes before the look', () => {
    const s = judged('1m');
    expect(nextTickDelay(s, progressing(s, NOW + 300), NOW, NOW, MAX)).toBe(300);
  });

  it('does not poll a settled rollout whose last check time has passed', () => {
    const s = judged('1s');
    const settled = statusIn(s, 'Succeeded', { nextCheckAt: NOW - 60_000 });
    expect(nextTickDelay(s, settled, NOW - 5_000, NOW, MAX)).toBe(MAX);
  });
});
