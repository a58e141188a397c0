import { describe, expect, it } from 'vitest';
import {
  appSpec,
  observations,
  rolesOf,
  statusIn,
  summarise,
  type ScenarioApp,
} from '../../../test/support/rollout-scenario.js';
import { judgeAsked, lookedMetric, nextLookAt, nextWakeAt, requiredLook } from './judge-looks.js';
import type { MetricResult } from './observations.js';
import { requiredChecks } from './required-checks.js';
import type { RolloutPhase, RolloutStatus } from './rollout-status.js';
import { step } from './step.js';

const NOW = 600_000;

function judged(analysis: Record<string, unknown> = {}, canary: Record<string, unknown> = {}): ScenarioApp {
  return appSpec({
    canary: {
      ...canary,
      analysis: {
        interval: '1m',
        threshold: 5,
        stepWeight: 10,
        maxWeight: 30,
        metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 } }],
        judge: { lookInterval: '1s' },
        ...analysis,
      },
    },
  });
}

const spec = judged();
const at = (phase: RolloutPhase, overrides: Partial<RolloutStatus> = {}, s: ScenarioApp = spec) =>
  statusIn(s, phase, {
    canaryWeight: 10,
    lastProgressTime: NOW - 5_000,
    nextCheckAt: NOW + 55_000,
    ...overrides,
  });

describe('nextLookAt', () => {
  it('is due at once with no look yet, then one lookInterval after the last look', () => {
    expect(nextLookAt(spec, at('Progressing'), undefined)).toBe(Number.NEGATIVE_INFINITY);
    expect(nextLookAt(spec, at('Progressing'), NOW)).toBe(NOW + 1_000);
    expect(nextLookAt(judged({ judge: { lookInterval: '250ms' } }), at('WaitingPromotion'), NOW)).toBe(
      NOW + 250,
    );
  });

  const NO_LOOK: readonly (readonly [string, RolloutStatus, ScenarioApp?])[] = [
    ['no judge', at('Progressing'), appSpec({ canary: { analysis: { interval: '1m', stepWeight: 10 } } })],
    ['skipAnalysis', at('Progressing'), judged({}, { skipAnalysis: true })],
    ['suspended', at('Progressing'), judged({}, { suspend: true })],
    ['paused', at('Progressing', { paused: true })],
    ['the analysis has not started (no canary traffic yet)', at('Progressing', { canaryWeight: 0 })],
    ['a newer revision restarts the analysis first', at('Progressing', { lastAppliedSpec: 'f00dfeedbeef' })],
    ['Promoting', at('Promoting')],
    ['Succeeded', at('Succeeded', { canaryWeight: 0 })],
    ['Failed', at('Failed', { canaryWeight: 0 })],
    ['Waiting', at('Waiting', { canaryWeight: 0 })],
  ];
  for (const [what, status, s = spec] of NO_LOOK) {
    it(`is undefined: ${what}`, () => {
      expect(nextLookAt(s, status, undefined)).toBeUndefined();
      expect(requiredLook(s, status, NOW, undefined, requiredChecks(s, status, NOW))).toBeUndefined();
    });
  }

  it('looks at a mirror step, where copies already reach the canary', () => {
    expect(nextLookAt(spec, at('Progressing', { canaryWeight: 0, mirror: true }), NOW)).toBe(NOW + 1_000);
  });
});

describe('requiredLook and judgeAsked', () => {
  const status = at('Progressing');
  const judge = lookedMetric(spec.canary.analysis);

  it('asks for the judge between check ticks once lookInterval has passed', () => {
    const none = requiredChecks(spec, status, NOW);
    expect(none.metrics).toEqual([]);
    expect(requiredLook(spec, status, NOW, NOW - 999, none)).toBeUndefined();
    expect(requiredLook(spec, status, NOW, NOW - 1_000, none)).toBe(judge);
    expect(judge?.name).toBe('judge');
    expect(judgeAsked(spec, none, judge)).toBe(true);
    expect(judgeAsked(spec, none, undefined)).toBe(false);
  });

  it('leaves a check tick to the check, which asks the judge itself', () => {
    const due = at('Progressing', { nextCheckAt: NOW });
    const checks = requiredChecks(spec, due, NOW, rolesOf(due));
    expect(checks.metrics.map((m) => m.name)).toEqual(['request-success-rate', 'judge']);
    expect(requiredLook(spec, due, NOW, NOW - 5_000, checks)).toBeUndefined();
    expect(judgeAsked(spec, checks, undefined)).toBe(true);
  });
});

describe('nextWakeAt', () => {
  it('wakes for the next look well before a long interval ends, and for the check when it comes first', () => {
    expect(nextWakeAt(spec, at('Progressing'), NOW)).toBe(NOW + 1_000);
    expect(nextWakeAt(spec, at('Progressing', { nextCheckAt: NOW + 400 }), NOW)).toBe(NOW + 400);
    expect(nextWakeAt(spec, at('Promoting', { nextCheckAt: NOW + 30_000 }), NOW)).toBe(NOW + 30_000);
  });
});

/** The judge's answer at a look: a pass, or a proven regression with the traffic it took. */
const pass: MetricResult = {
  name: 'judge',
  value: 0.4,
  sampleSize: 300,
  passed: true,
  detail: 'no regression',
};
const regression: MetricResult = {
  name: 'judge',
  value: 0.001,
  passed: false,
  rollback: true,
  detail: 'regression: error rate 100.00% vs 0.00%',
  proof: { canaryRequests: 38, canaryMs: 8_000 },
};

describe('step with a look between check ticks', () => {
  const status = at('Progressing');

  it('rolls back at once on a regression found at a look, saying what the threshold policy would have needed', () => {
    const result = step(spec, status, observations({ ...rolesOf(status), looks: [regression] }), NOW);
    expect(result.status).toMatchObject({ phase: 'Failed', canaryWeight: 0, failedChecks: 1 });
    expect(summarise(spec, result.actions)).toEqual([
      'event RegressionDetected',
      'alert error: Rolling back: regression detected (metric judge: regression: error rate 100.00% vs 0.00%)',
      'routes 100/0',
      'stop canary',
      'event Failed',
    ]);
    const detected = result.actions.find((a) => a.kind === 'event' && a.reason === 'RegressionDetected');
    expect(detected).toMatchObject({
      message:
        'Rolling back webapp: regression detected (metric judge: regression: error rate 100.00% vs 0.00%); ' +
        "rolled back after 38 canary requests (8s); the threshold policy (Flagger's: 5 failed checks at 1m) " +
        'would have waited at least 6 intervals (6m)',
    });
  });

  it('does nothing with a passing look: steps advance on the interval only', () => {
    const result = step(spec, status, observations({ ...rolesOf(status), looks: [pass] }), NOW);
    expect(result).toEqual({ status, actions: [] });
  });

  it('still rolls back on a look while the canary is not ready or a gate holds the promotion', () => {
    const notReady = step(spec, status, observations({ looks: [regression] }), NOW);
    expect(notReady.status.phase).toBe('Failed');
    const waiting = at('WaitingPromotion', { canaryWeight: 30 });
    expect(
      step(spec, waiting, observations({ ...rolesOf(waiting), looks: [regression] }), NOW).status.phase,
    ).toBe('Failed');
  });

  it('ignores a look while paused, and a look of a metric the spec does not have', () => {
    const paused = at('Progressing', { paused: true });
    expect(
      step(spec, paused, observations({ ...rolesOf(paused), looks: [regression] }), NOW).actions,
    ).toEqual([]);
    const stranger = { ...regression, name: 'request-duration' };
    expect(step(spec, status, observations({ ...rolesOf(status), looks: [stranger] }), NOW).actions).toEqual(
      [],
    );
  });
});

/**
 * The controller's loop on a virtual clock, as the bench drives it: each call asks
 * `requiredChecks` and `requiredLook`, answers the judge from `judgeAt`, and steps. Returns
 * the times of looks, of check ticks, and the actions' summary with their times.
 */
function runVirtual(
  s: ScenarioApp,
  start: RolloutStatus,
  untilMs: number,
  judgeAt: (now: number) => MetricResult,
) {
  let status = start;
  let lastLookAt: number | undefined;
  const looks: number[] = [];
  const checkTicks: number[] = [];
  const log: string[] = [];
  let now = start.lastProgressTime;
  while (now <= untilMs && status.phase === 'Progressing') {
    const roles = rolesOf(status);
    const checks = requiredChecks(s, status, now, roles);
    const look = requiredLook(s, status, now, lastLookAt, checks);
    if (judgeAsked(s, checks, look)) lastLookAt = now;
    if (look !== undefined) looks.push(now);
    if (checks.metrics.length > 0) checkTicks.push(now);
    const metrics = checks.metrics.map((m) =>
      m.name === 'judge' ? judgeAt(now) : { name: m.name, value: 99.9, sampleSize: 500, passed: true },
    );
    const result = step(
      s,
      status,
      observations({ ...roles, checks: { webhooks: [], metrics }, looks: look ? [judgeAt(now)] : [] }),
      now,
    );
    for (const line of summarise(s, result.actions)) log.push(`${now - start.lastProgressTime} ${line}`);
    status = result.status;
    now = nextWakeAt(s, status, lastLookAt);
  }
  return { status, looks, checkTicks, log };
}

describe('the scheduler on a virtual clock', () => {
  const start = at('Progressing', { lastProgressTime: 0, nextCheckAt: 60_000 });

  it('a healthy canary is looked at every second and advances only at check ticks', () => {
    const run = runVirtual(spec, start, 150_000, () => pass);
    expect(run.checkTicks).toEqual([60_000, 120_000]);
    const everySecond = Array.from({ length: 151 }, (_, i) => i * 1_000);
    expect(run.looks).toEqual(everySecond.filter((t) => !run.checkTicks.includes(t)));
    expect(run.log).toEqual([
      '60000 routes 80/20',
      '60000 event WeightAdvanced',
      '120000 routes 70/30',
      '120000 event WeightAdvanced',
    ]);
  });

  it('a canary that fails at once is rolled back at the first look that proves it, not at the check tick', () => {
    const run = runVirtual(spec, start, 150_000, (now) => (now >= 3_000 ? regression : pass));
    expect(run.checkTicks).toEqual([]);
    expect(run.status.phase).toBe('Failed');
    expect(run.log[0]).toBe('3000 event RegressionDetected');
  });
});
