/**
 * Promoting and Finalising (Flagger's canary controller: `runPromotionTrafficShift` and the
 * Finalising branch of `advanceCanary`, pkg/controller/scheduler.go): wait until the primary
 * runs the promoted revision and is ready, move traffic back to it at once or by
 * `stepWeightPromotion` per interval, then stop the canary and settle as Succeeded.
 */
import { describeRole, isReady } from './check-verdicts.js';
import { deadlineCause } from './step-analysis.js';
import type { StepDraft } from './step-draft.js';
import { rollback, runPostRolloutHooks } from './transitions.js';
import { nextPromotionWeight, TOTAL_WEIGHT } from './weights.js';

const SUCCESS_ALERTS = {
  analysis: 'Canary analysis completed successfully, promotion finished.',
  'skip-analysis': 'Canary analysis was skipped, promotion finished.',
  operator: 'Canary promoted by operator, promotion finished.',
  early: 'Canary shown non-inferior by the judge, promoted early, promotion finished.',
} as const;

/** One call in Promoting. */
export function promoting(d: StepDraft): void {
  const s = d.status;
  const a = d.analysis;
  if (d.deadlineExceeded()) return rollback(d, deadlineCause(d));
  if (!isReady(d.observations.primary, s.primaryRevision, a.primaryReadyThreshold)) {
    if (d.due) {
      d.consumeCheckTick();
      d.event(
        'NotReady',
        `Waiting for ${describeRole('primary', d.observations.primary, s.primaryRevision)}`,
      );
    }
    return;
  }
  if (a.stepWeightPromotion === undefined || s.canaryWeight === 0) {
    d.route(0);
    d.progressed();
    d.setPhase('Finalising');
    d.event('Finalising', `Routing all ${d.name} traffic to primary`);
    return;
  }
  if (!d.due) return;
  d.consumeCheckTick();
  const weight = nextPromotionWeight(s.canaryWeight, a.stepWeightPromotion);
  d.route(weight, { abTesting: weight > 0 && s.abTesting });
  d.progressed();
  d.event('PromotionStep', `Advance ${d.name} primary weight ${TOTAL_WEIGHT - weight}`);
  if (weight === 0) d.setPhase('Finalising');
}

/**
 * One call in Finalising. Its set-routes went out on the previous call, so no traffic
 * reaches the canary any more and it can be stopped.
 */
export function finalise(d: StepDraft): void {
  const s = d.status;
  if (s.canaryRevision !== null) d.act({ kind: 'stop', role: 'canary' });
  d.stopBaseline();
  s.canaryRevision = null;
  s.lastPromotedSpec = s.primaryRevision;
  s.iterations = 0;
  d.route(0);
  d.progressed();
  d.setPhase('Succeeded');
  runPostRolloutHooks(d);
  d.event('Succeeded', `Promotion completed! Scaling down ${d.name} canary`);
  d.alert('info', SUCCESS_ALERTS[s.promotion ?? 'analysis']);
}
