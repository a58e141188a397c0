/**
 * The transitions several phases share: start an analysis, restart it on a new revision,
 * cancel it when the desired revision is the primary's again, promote, roll back. Each
 * records its event (and alert, with Flagger's wording) and leaves the status consistent.
 */
import type { AlertSeverity } from '../../config/app-schema.js';
import type { EventReason } from './actions.js';
import { hooksOf } from './check-verdicts.js';
import type { PromotionCause } from './rollout-status.js';
import type { StepDraft } from './step-draft.js';

/** Why a rollback happens: the event to record and, when Flagger sends one, the alert. */
export interface RollbackCause {
  readonly reason: EventReason;
  readonly message: string;
  readonly alert?: { readonly severity: AlertSeverity; readonly message: string };
}

function resetAnalysis(d: StepDraft): void {
  d.status.failedChecks = 0;
  d.status.iterations = 0;
  delete d.status.promotion;
}

/** Confirmed new revision: scale the canary up and start the analysis (or promote at once with skipAnalysis). */
export function startRollout(d: StepDraft): void {
  const s = d.status;
  s.lastAppliedSpec = d.revision;
  resetAnalysis(d);
  d.alert('info', 'New revision detected, progressing canary analysis.');
  if (d.spec.canary.skipAnalysis) {
    d.event('NewRevision', `New revision ${d.revision} detected for ${d.name}; analysis skipped`);
    promote(d, 'skip-analysis');
    return;
  }
  d.event('NewRevision', `New revision detected! Scaling up ${d.name} canary to revision ${d.revision}`);
  d.act({ kind: 'start-canary', revision: d.revision, replicas: d.spec.desired.replicas });
  s.canaryRevision = d.revision;
  d.route(0);
  if (d.analysis.baseline === 'fresh') d.startBaseline();
  d.setPhase('Progressing');
  d.progressed();
  d.consumeCheckTick();
}

/** A new revision during the analysis: all traffic back to the primary, counters to zero, start again. */
export function restartRollout(d: StepDraft): void {
  const s = d.status;
  d.route(0);
  s.lastAppliedSpec = d.revision;
  s.canaryRevision = d.revision;
  resetAnalysis(d);
  d.act({ kind: 'start-canary', revision: d.revision, replicas: d.spec.desired.replicas });
  // The new canary starts cold, so the baseline it is compared with starts cold again too.
  d.stopBaseline();
  if (d.analysis.baseline === 'fresh') d.startBaseline();
  d.setPhase('Progressing');
  d.progressed();
  d.consumeCheckTick();
  d.event(
    'Restarted',
    `New revision detected! Restarting analysis for ${d.name} with revision ${d.revision}`,
  );
}

/**
 * The desired revision is the primary's again (the user reverted the change): drop the
 * canary and settle. Flagger ignores such a change so as not to start a rollout on a
 * manual rollback; with nothing left to analyse, Aviary stops the canary too.
 */
export function revertToPrimary(d: StepDraft): void {
  const s = d.status;
  d.route(0);
  if (s.canaryRevision !== null) d.act({ kind: 'stop', role: 'canary' });
  d.stopBaseline();
  s.canaryRevision = null;
  s.lastAppliedSpec = d.revision;
  resetAnalysis(d);
  d.setPhase('Succeeded', 'Desired revision is the primary revision; canary analysis cancelled.');
  d.progressed();
  d.event(
    'Reverted',
    `Desired revision of ${d.name} is the primary revision ${d.revision} again; canary stopped`,
  );
}

/** Copies the canary's revision to the primary and waits (Promoting) for it to be ready. */
export function promote(d: StepDraft, cause: PromotionCause): void {
  const s = d.status;
  const revision = s.lastAppliedSpec;
  // The analysis is over: the baseline's traffic goes back to the primary before it changes.
  d.stopBaseline();
  d.act({ kind: 'promote-spec', revision, replicas: d.spec.desired.replicas });
  s.primaryRevision = revision;
  s.promotion = cause;
  d.setPhase('Promoting');
  d.progressed();
  d.event('Promoting', `Copying ${d.name} canary spec (revision ${revision}) to primary`);
}

/**
 * Flagger's rollback: all traffic to the primary, canary scaled to zero, phase Failed,
 * post-rollout hooks, alert. A primary already being replaced (rollback while Promoting)
 * goes back to the last promoted revision.
 */
export function rollback(d: StepDraft, cause: RollbackCause): void {
  const s = d.status;
  d.event(cause.reason, cause.message, 'warning');
  if (cause.alert !== undefined) d.alert(cause.alert.severity, cause.alert.message);
  d.route(0);
  if (s.canaryRevision !== null) d.act({ kind: 'stop', role: 'canary' });
  d.stopBaseline();
  if (s.lastPromotedSpec !== null && s.primaryRevision !== s.lastPromotedSpec) {
    d.act({ kind: 'promote-spec', revision: s.lastPromotedSpec, replicas: d.spec.desired.replicas });
    s.primaryRevision = s.lastPromotedSpec;
  }
  s.canaryRevision = null;
  s.iterations = 0;
  s.paused = false;
  delete s.promotion;
  d.setPhase('Failed');
  d.progressed();
  runPostRolloutHooks(d);
  d.event('Failed', `Canary failed! Scaling down ${d.name} canary`, 'warning');
}

/** Emits run-hooks for post-rollout webhooks, when there are any. */
export function runPostRolloutHooks(d: StepDraft): void {
  if (hooksOf(d.analysis, 'post-rollout').length > 0) {
    d.act({ kind: 'run-hooks', type: 'post-rollout', phase: d.status.phase });
  }
}

/** Rollback cause for `failedChecks >= threshold`, with Flagger's wording. */
export function thresholdCause(d: StepDraft): RollbackCause {
  const n = d.status.failedChecks;
  return {
    reason: 'ThresholdReached',
    message: `Rolling back ${d.name} failed checks threshold reached ${n}`,
    alert: { severity: 'error', message: `Failed checks threshold reached ${n}` },
  };
}
