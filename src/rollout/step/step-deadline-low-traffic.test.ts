/**
 * The progress deadline while the judge gathers evidence at low traffic
 * (docs/adr/0022-deadline-at-low-traffic.md): a canary silent for a whole deadline while its
 * reference took so few requests that the silence is probable is held, not rolled back (the
 * bench measured 22 % of healthy canaries at 0.1 rps rolled back by the deadline when
 * silence always counted as a stall); a canary silent while the primary takes plenty is a
 * stall the deadline still ends, at low traffic too, once the silence is improbable.
 */
import { describe, expect, it } from 'vitest';
import { observations, rolesOf, statusIn } from '../../../test/support/rollout-scenario.js';
import { STALL_SILENCE_PROBABILITY } from './judge-progress.js';
import type { MetricResult } from './observations.js';
import type { RolloutStatus } from './rollout-status.js';
import { step } from './step.js';
import { NOW, specWith } from './step-test-support.js';

const MINUTE = 60_000;
const spec = specWith({ judge: {} });
const passing: MetricResult = { name: 'request-success-rate', value: 100, sampleSize: 500, passed: true };
const holding = (canaryRequests: number, primaryRequests: number): MetricResult => ({
  name: 'judge',
  value: null,
  sampleSize: canaryRequests,
  referenceSampleSize: primaryRequests,
  passed: false,
  detail: `insufficient data: ${canaryRequests} of 100 canary requests`,
});

interface Run {
  readonly status: RolloutStatus;
  /** Minute of the first DeadlineExceeded event, if any. */
  readonly deadlineAt: number | undefined;
}

/**
 * Ticks once a minute at weight 10 for `minutes`: the judge holds on `canary(i)` canary
 * requests and `primary(i)` primary requests, both counted since the analysis began.
 */
function run(minutes: number, canary: (i: number) => number, primary: (i: number) => number): Run {
  let status = statusIn(spec, 'Progressing', { canaryWeight: 10, lastProgressTime: NOW, nextCheckAt: NOW });
  let deadlineAt: number | undefined;
  for (let i = 0; i < minutes && status.phase === 'Progressing'; i++) {
    const checks = { webhooks: [], metrics: [passing, holding(canary(i), primary(i))] };
    const result = step(spec, status, observations({ ...rolesOf(status), checks }), NOW + i * MINUTE);
    status = result.status;
    for (const action of result.actions) {
      if (action.kind === 'event' && action.reason === 'DeadlineExceeded') deadlineAt ??= i;
    }
  }
  return { status, deadlineAt };
}

// 0.1 rps, 90 % on the primary: 5.4 primary requests a minute; 10 % on the canary: one
// canary request every ~100 s, so a whole 10-minute deadline without one is no rarity.
const lowTrafficPrimary = (i: number) => Math.floor(5.4 * i);
// Two canary requests in the first minutes, then none.
const twoThenSilent = (i: number) => Math.min(i, 2);

describe('step: the progress deadline at low traffic', () => {
  it('holds a canary silent for longer than the deadline while its silence is probable', () => {
    // 12 minutes of silence after minute 2: the primary took 65 requests, and a canary at
    // 10 % has none of 65 with probability 0.9^65 ≈ 1e-3, above 1e-4.
    const { status, deadlineAt } = run(15, twoThenSilent, lowTrafficPrimary);
    expect(0.9 ** (lowTrafficPrimary(14) - lowTrafficPrimary(2))).toBeGreaterThan(STALL_SILENCE_PROBABILITY);
    expect(deadlineAt).toBeUndefined();
    expect(status.phase).toBe('Progressing');
    // The count is kept from the last canary request, so the silence adds up across holds.
    expect(status.judgeEvidence).toMatchObject({
      canaryRequests: 2,
      referenceRequests: lowTrafficPrimary(2),
    });
  });

  it('ends a canary silent at low traffic one deadline after its silence became improbable', () => {
    // 0.9^n < 1e-4 from n = 88 primary requests since minute 2 (10 then): minute 19 (102);
    // the last hold that counted is at minute 18 (97), so the 10-minute deadline ends it at 29.
    const { status, deadlineAt } = run(60, twoThenSilent, lowTrafficPrimary);
    expect(status.phase).toBe('Failed');
    expect(deadlineAt).toBe(29);
  });

  it('ends a canary that takes no request while the primary takes plenty, as if no traffic argument existed', () => {
    // 50 rps on the primary: thousands of canary requests were due in the first minute.
    const { status, deadlineAt } = run(20, twoThenSilent, (i) => 2700 * i);
    expect(status.phase).toBe('Failed');
    // The last progress is the hold at minute 2 (the second canary request): 10 minutes later.
    expect(deadlineAt).toBe(13);
  });

  it('measures silence afresh from a step to a new weight', () => {
    // Silent from minute 2; the check passes at minute 8 and the canary steps to 20 %, where
    // 0.8^n < 1e-4 from n = 42. Counted from minute 8 (43 primary requests then) the silence
    // is probable until minute 15 (81), so the deadline is not reached by minute 21; counted
    // from minute 2 (10) it would be improbable from minute 10 (54) and end it at minute 19.
    let status = statusIn(spec, 'Progressing', { canaryWeight: 10, lastProgressTime: NOW, nextCheckAt: NOW });
    let rolledBack = false;
    for (let i = 0; i < 22 && status.phase === 'Progressing'; i++) {
      // Past the judge's minimum of canary requests, so that a passing check may step.
      const canary = 150 + twoThenSilent(i);
      const primary = lowTrafficPrimary(i);
      const judge: MetricResult =
        i === 8
          ? { name: 'judge', value: 0.5, sampleSize: canary, referenceSampleSize: primary, passed: true }
          : holding(canary, primary);
      const checks = { webhooks: [], metrics: [passing, judge] };
      const result = step(spec, status, observations({ ...rolesOf(status), checks }), NOW + i * MINUTE);
      status = result.status;
      rolledBack ||= result.actions.some((a) => a.kind === 'event' && a.reason === 'DeadlineExceeded');
    }
    expect(status.canaryWeight).toBe(20);
    expect(rolledBack).toBe(false);
    expect(status.judgeEvidence).toMatchObject({
      canaryRequests: 152,
      referenceRequests: lowTrafficPrimary(8),
    });
  });
});
