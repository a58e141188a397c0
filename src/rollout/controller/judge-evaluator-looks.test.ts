import { describe, expect, it } from 'vitest';
import { RollingWindow } from '../../proxy/stats/rolling-window.js';
import { appSpec, statusIn } from '../../../test/support/rollout-scenario.js';
import type { RolloutStatus } from '../step/rollout-status.js';
import { JudgeEvaluator } from './judge-evaluator.js';

/** A whole second, so windows line up with the router's one-second slices. */
const T0 = 1_700_000_000_000;
const never = new AbortController().signal;
const spec = appSpec({
  canary: { analysis: { interval: '1m', threshold: 5, stepWeight: 10, maxWeight: 50, judge: {} } },
});
const judgeMetric = spec.canary.analysis.metrics.find((m) => m.name === 'judge')!;

/** The router's per-version slices (the real RollingWindow), and the windows the judge asked for. */
function traffic() {
  const windows = { primary: new RollingWindow(), canary: new RollingWindow() };
  const asked: [number, number][] = [];
  return {
    asked,
    /** `rps` requests a second on [fromMs, toMs), all answering `status`. */
    fill(version: 'primary' | 'canary', fromMs: number, toMs: number, rps: number, status: number) {
      for (let second = fromMs; second < toMs; second += 1000)
        for (let i = 0; i < rps; i++)
          windows[version].record(second + (i * 1000) / rps, status, 40, undefined);
    },
    source: (_app: string, version: 'primary' | 'canary' | 'baseline') => ({
      snapshot: (fromMs: number, toMs: number) => {
        if (version === 'baseline') throw new Error('no baseline in these tests');
        if (version === 'canary') asked.push([fromMs, toMs]);
        return windows[version].snapshot(fromMs, toMs);
      },
    }),
  };
}

function evaluatorAt(status: RolloutStatus, source: ReturnType<typeof traffic>['source']) {
  return new JudgeEvaluator({ traffic: source, status: () => status });
}

describe('JudgeEvaluator at looks between check ticks', () => {
  it('starts a new run where the canary got its weight, not one analysis interval back', async () => {
    // The weight was set 2.5 s ago, 55 s before the next check: a look comes first.
    const status = statusIn(spec, 'Progressing', {
      canaryWeight: 10,
      lastProgressTime: T0 - 2_500,
      nextCheckAt: T0 + 57_500,
    });
    const t = traffic();
    t.fill('primary', T0 - 60_000, T0 + 1_000, 20, 200);
    t.fill('canary', T0 - 2_000, T0 + 1_000, 5, 200);
    const evaluator = evaluatorAt(status, t.source);
    await evaluator.evaluate(spec, judgeMetric, T0 + 300, never);
    await evaluator.evaluate(spec, judgeMetric, T0 + 1_300, never);
    expect(t.asked).toEqual([
      [T0 - 2_000, T0],
      [T0, T0 + 1_000],
    ]);
    // Only seconds at the canary's weight: 3 s of primary traffic, not a minute of it.
    expect(evaluator.run(spec.name)?.state.primary.requests).toBe(60);
  });

  it('at a change of weight, feeds the seconds before at the old weight and leaves out the second of the change', async () => {
    let status = statusIn(spec, 'Progressing', {
      canaryWeight: 10,
      lastProgressTime: T0,
      nextCheckAt: T0 + 60_000,
    });
    const t = traffic();
    t.fill('primary', T0, T0 + 10_000, 20, 200);
    t.fill('canary', T0, T0 + 10_000, 5, 200);
    const evaluator = new JudgeEvaluator({ traffic: t.source, status: () => status });
    const look = (at: number) => evaluator.evaluate(spec, judgeMetric, at, never);
    await look(T0 + 1_200);
    // The weight moves at T0 + 2.6 s with no look since T0 + 1.2 s (an operator's set-weights).
    status = { ...status, canaryWeight: 20, lastProgressTime: T0 + 2_600 };
    await look(T0 + 3_300);
    expect(evaluator.run(spec.name)).toMatchObject({ lastTo: T0 + 3_000, weight: 20 });
    await look(T0 + 4_300);
    expect(t.asked).toEqual([
      [T0, T0 + 1_000],
      [T0 + 1_000, T0 + 2_000],
      [T0 + 3_000, T0 + 4_000],
    ]);
    expect(evaluator.run(spec.name)?.state.canary.requests).toBe(15);
  });

  it('a regression at a look carries the canary traffic its proof took and the harm bounds, for the rollback event', async () => {
    const status = statusIn(spec, 'Progressing', {
      canaryWeight: 20,
      lastProgressTime: T0,
      nextCheckAt: T0 + 60_000,
    });
    const t = traffic();
    t.fill('primary', T0, T0 + 30_000, 40, 200);
    t.fill('canary', T0, T0 + 30_000, 10, 500);
    const evaluator = evaluatorAt(status, t.source);
    let result;
    let second = 1;
    for (; second <= 30; second++) {
      result = await evaluator.evaluate(spec, judgeMetric, T0 + second * 1_000 + 200, never, 'look');
      if (result?.rollback === true) break;
    }
    expect(result).toMatchObject({
      rollback: true,
      proof: { canaryRequests: second * 10, canaryMs: second * 1_000 },
      evidence: { harm: { errors: { excessUpper: expect.any(Number) } } },
    });
    expect(second).toBeLessThan(30);
  });

  it('a pass or a hold carries no proof', async () => {
    const status = statusIn(spec, 'Progressing', { canaryWeight: 10, lastProgressTime: T0 });
    const t = traffic();
    t.fill('canary', T0, T0 + 2_000, 5, 200);
    const result = await evaluatorAt(status, t.source).evaluate(spec, judgeMetric, T0 + 2_000, never);
    expect(result).toMatchObject({ passed: false, value: null });
    expect(result?.proof).toBeUndefined();
  });

  it('a look answers only whether to roll back: no hold, and no harm bounds unless it rolls back', async () => {
    // 150 healthy canary requests: past minCanaryRequests, far from the harm bounds' needs,
    // so a check tick holds ("gathering evidence …") with its projection.
    const held = { canaryWeight: 10, lastProgressTime: T0, nextCheckAt: T0 + 60_000 };
    const t = traffic();
    t.fill('primary', T0, T0 + 30_000, 45, 200);
    t.fill('canary', T0, T0 + 30_000, 5, 200);
    const at = T0 + 30_000;
    const check = await evaluatorAt(statusIn(spec, 'Progressing', held), t.source).evaluate(
      spec,
      judgeMetric,
      at,
      never,
      'check',
    );
    expect(check).toMatchObject({ passed: false, value: null, sampleSize: 150 });
    expect(check?.detail).toMatch(/^gathering evidence before weight 20%: ~\d+ more canary requests/);
    expect(check?.evidence).toMatchObject({ harm: { moreCanaryRequestsToPromote: expect.any(Number) } });

    const look = await evaluatorAt(statusIn(spec, 'Progressing', held), t.source).evaluate(
      spec,
      judgeMetric,
      at,
      never,
      'look',
    );
    expect(look).toMatchObject({ passed: true, sampleSize: 150 });
    expect(look?.rollback).toBeUndefined();
    expect(look?.detail).toMatch(/^no regression/);
    expect(look?.evidence).not.toHaveProperty('harm');
  });

  it('asks a delayed data plane only up to where its traffic is complete (settledUntil)', async () => {
    const status = statusIn(spec, 'Progressing', {
      canaryWeight: 10,
      lastProgressTime: T0,
      nextCheckAt: T0 + 60_000,
    });
    const t = traffic();
    t.fill('primary', T0, T0 + 10_000, 20, 200);
    t.fill('canary', T0, T0 + 10_000, 5, 200);
    let settled = T0 + 2_400;
    const evaluator = new JudgeEvaluator({
      traffic: t.source,
      status: () => status,
      settledUntil: () => Promise.resolve(settled),
    });
    await evaluator.evaluate(spec, judgeMetric, T0 + 5_300, never, 'look');
    settled = T0 + 4_000;
    await evaluator.evaluate(spec, judgeMetric, T0 + 6_300, never, 'look');
    expect(t.asked).toEqual([
      [T0, T0 + 2_000],
      [T0 + 2_000, T0 + 4_000],
    ]);
    expect(evaluator.run(spec.name)?.state.canary.requests).toBe(20);
  });
});
