import { describe, expect, it } from 'vitest';
import { rebaseStatus } from '../step/clock-rebase.js';
import { harness, T0 } from './judge-evaluator-test-support.js';

const HOUR = 3_600_000;

describe('JudgeEvaluator when the wall clock jumps between two looks', () => {
  it.each([
    ['back 1 h', -HOUR],
    ['forward 1 h', HOUR],
  ])('%s: every second of traffic is fed once, in windows of the time that passed', async (_, jumpMs) => {
    const h = harness();
    h.traffic.fill('primary', T0 - 10_000, T0, 20, 0);
    h.traffic.fill('canary', T0 - 10_000, T0, 20, 0);
    await h.judge(T0);
    // The jump as the controller and the proxy see it: the slices, the status and the run move with it.
    for (const window of Object.values(h.traffic.windows)) window.rebase(jumpMs / 1000);
    h.status = rebaseStatus(h.status, jumpMs);
    h.evaluator.rebase('webapp', jumpMs);
    const after = T0 + jumpMs;
    h.traffic.fill('primary', after, after + 10_000, 20, 0);
    h.traffic.fill('canary', after, after + 10_000, 20, 0);
    await h.judge(after + 10_000);
    expect(h.evaluator.run('webapp')!.state.canary.requests).toBe(400);
    expect(h.evaluator.run('webapp')!.state.primary.requests).toBe(400);
    expect(h.traffic.asked.at(-1)).toEqual([after, after + 10_000]);
  });
});
