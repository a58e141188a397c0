/**
 * Whether a judge hold ("gathering evidence") is progress for the progress deadline
 * (docs/adr/0022-deadline-at-low-traffic.md). Gathering evidence on a canary that takes
 * traffic is progress; a canary that takes none while its reference does is a stall the
 * deadline must end. At low traffic a healthy canary can go a whole deadline without a
 * request, so its silence counts as a stall only once the reference's traffic made it
 * improbable under routing that works.
 */
import { JUDGE_METRIC_NAME } from '../../config/app-analysis.js';
import type { StepDraft } from './step-draft.js';
import { baselineWeight, strategyOf, TOTAL_WEIGHT } from './weights.js';

/**
 * How improbable the canary's silence must be, under routing that sends each request to the
 * canary with its share of the weight, before it counts as a stall: 1e-4. The deadline then
 * runs from the last hold before that point, so a false stall needs a further deadline of
 * silence too (at 0.1 rps and weight 10 %, e^-6 more for the default 10 m).
 */
export const STALL_SILENCE_PROBABILITY = 1e-4;

/** What the judge metric of this check tick counted, if it counted anything. */
function judgeCounts(d: StepDraft): { canary: number; reference: number | undefined } | undefined {
  const judge = d.observations.checks.metrics.find((m) => m.name === JUDGE_METRIC_NAME);
  if (judge?.sampleSize === undefined) return undefined;
  return { canary: judge.sampleSize, reference: judge.referenceSampleSize };
}

/**
 * The counts recorded for this revision; none recorded yet (or counted for another
 * revision) is the judge's start, where it counts from zero for both.
 */
function recorded(d: StepDraft): { canary: number; reference: number | undefined } {
  const s = d.status;
  const evidence = s.judgeEvidence;
  if (evidence?.revision !== s.lastAppliedSpec) return { canary: 0, reference: 0 };
  return { canary: evidence.canaryRequests, reference: evidence.referenceRequests };
}

/**
 * The canary's share of the traffic the canary and the judge's reference take together
 * (the primary, or the fresh baseline with `analysis.baseline: fresh`), or undefined where
 * the weight says nothing of it: A/B testing (the canary takes matched requests),
 * blue/green and mirroring (weight 0), all traffic on the canary.
 */
function canaryShare(d: StepDraft): number | undefined {
  const s = d.status;
  const canary = s.canaryWeight;
  if (strategyOf(d.analysis) !== 'canary' || s.mirror || canary <= 0 || canary >= TOTAL_WEIGHT) {
    return undefined;
  }
  const reference =
    d.analysis.baseline === 'fresh'
      ? baselineWeight(canary, (s.baselineRevision ?? null) !== null)
      : TOTAL_WEIGHT - canary;
  return reference > 0 ? canary / (canary + reference) : undefined;
}

/**
 * Whether the canary's silence since the counts were last recorded is still probable: the
 * reference took `n` requests and the canary none, which happens with probability
 * (1 − share)^n when each request goes to the canary with its share (a binomial draw given
 * the pair's total, as the count test assumes: docs/adr/0002). False without the
 * reference's count (a judge that does not report it, a status recorded before it was kept):
 * then only growing evidence is progress.
 */
function silenceProbable(d: StepDraft, referenceNow: number | undefined): boolean {
  const share = canaryShare(d);
  const before = recorded(d).reference;
  if (share === undefined || referenceNow === undefined || before === undefined) return false;
  const referenceRequests = Math.max(0, referenceNow - before);
  return referenceRequests * Math.log1p(-share) > Math.log(STALL_SILENCE_PROBABILITY);
}

/**
 * Whether this check tick's judge hold is progress, recording the judge's counts in the
 * status when its evidence grew:
 * - more canary requests than at the last record of this revision: progress, recorded;
 * - none more, but the reference's traffic since then makes that silence probable (low
 *   traffic, docs/adr/0022): progress, not recorded, so the reference's count keeps adding
 *   up from the last canary request until the silence is improbable; the deadline then runs
 *   from the last hold before that point;
 * - otherwise no progress: the deadline ends the stall.
 */
export function judgeHoldProgressed(d: StepDraft): boolean {
  const counts = judgeCounts(d);
  if (counts === undefined) return false;
  if (counts.canary > recorded(d).canary) {
    recordJudgeCounts(d);
    return true;
  }
  return silenceProbable(d, counts.reference);
}

/**
 * Records the judge's counts of this check tick, if it has any, as the point the evidence is
 * measured from: at a hold whose evidence grew, and at any other check tick that progressed
 * (a step to a new weight changes the canary's share, so silence is measured afresh).
 */
export function recordJudgeCounts(d: StepDraft): void {
  const counts = judgeCounts(d);
  if (counts === undefined) return;
  d.status.judgeEvidence = {
    revision: d.status.lastAppliedSpec,
    canaryRequests: counts.canary,
    ...(counts.reference !== undefined ? { referenceRequests: counts.reference } : {}),
  };
}
