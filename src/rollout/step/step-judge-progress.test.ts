/**
 * The progress deadline and the judge's evidence: a canary held while the judge gathers
 * evidence on growing traffic is making progress (its evidence grows), so the deadline does
 * not end it; a hold on evidence that stopped growing (no canary traffic) is no progress, and
 * the deadline ends it as `analysis.deadlineAction` says. Fails on a state machine that counts
 * every hold as no progress (the bench measured 92.5 % of healthy canaries at 10 rps rolled
 * back by the deadline that way).
 */
import { describe, expect, it } from 'vitest';
import { observations, rolesOf, statusIn } from '../../../test/support/rollout-scenario.js';
import type { MetricResult } from './observations.js';
import type { RolloutStatus } from './rollout-status.js';
import { step } from './step.js';
import { NOW, specWith } from './step-test-support.js';

const MINUTE = 60_000;
const spec = specWith({ judge: {} });
const passing: MetricResult = { name: 'request-success-rate', value: 100, sampleSize: 500, passed: true };
const holding = (canaryRequests: number): MetricResult => ({
  name: 'judge',
  value: null,
  sampleSize: canaryRequests,
  passed: false,
  detail: `gathering evidence before weight 20%: ~${5000 - canaryRequests} more canary requests`,
});

/** Ticks once a minute for `minutes` with the judge holding on `counts(i)` canary requests. */
function run(minutes: number, counts: (i: number) => number): { status: RolloutStatus; reasons: string[] } {
  let status = statusIn(spec, 'Progressing', { canaryWeight: 10, lastProgressTime: NOW, nextCheckAt: NOW });
  const reasons: string[] = [];
  for (let i = 0; i < minutes && status.phase === 'Progressing'; i++) {
    const now = NOW + i * MINUTE;
    const checks = { webhooks: [], metrics: [passing, holding(counts(i))] };
    const result = step(spec, status, observations({ ...rolesOf(status), checks }), now);
    status = result.status;
    for (const action of result.actions) if (action.kind === 'event') reasons.push(action.reason);
  }
  return { status, reasons };
}

describe('step: the progress deadline while the judge gathers evidence', () => {
  it('does not end a rollout whose evidence grows at every check, however long it holds', () => {
    const { status, reasons } = run(30, (i) => 200 + 40 * i);
    expect(status.phase).toBe('Progressing');
    expect(status.canaryWeight).toBe(10);
    expect(reasons).not.toContain('DeadlineExceeded');
    expect(status.judgeEvidence?.canaryRequests).toBe(200 + 40 * 29);
  });

  it('ends a rollout whose evidence stopped growing once the deadline passes (rollback by default)', () => {
    // 15 minutes of growth, then no canary request at all.
    const { status, reasons } = run(40, (i) => 200 + 40 * Math.min(i, 15));
    expect(reasons).toContain('DeadlineExceeded');
    expect(status.phase).toBe('Failed');
  });

  it('counts evidence per revision: a new rollout does not inherit the last one’s count', () => {
    const before = statusIn(spec, 'Progressing', {
      canaryWeight: 10,
      lastProgressTime: NOW - 9 * MINUTE,
      nextCheckAt: NOW,
      judgeEvidence: { revision: 'an-older-revision', canaryRequests: 10_000 },
    });
    const checks = { webhooks: [], metrics: [passing, holding(150)] };
    const { status } = step(spec, before, observations({ ...rolesOf(before), checks }), NOW);
    expect(status.lastProgressTime).toBe(NOW);
    expect(status.judgeEvidence).toEqual({ revision: before.lastAppliedSpec, canaryRequests: 150 });
  });
});
