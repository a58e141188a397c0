/**
 * The analysis phases (Progressing, WaitingPromotion): the analysis part of Flagger's tick
 * (`advanceCanary` in pkg/controller/scheduler.go). Restart on a new revision, threshold and
 * deadline rollbacks, and the rollback for a regression found at a look between check ticks
 * (`observations.looks`, ADR 0017) happen on any call; readiness, rollback hooks, checks and the
 * strategy's advance happen once per analysis interval (the check tick), with the results
 * the scheduler gathered for it.
 */
import { formatDuration } from '../../config/duration.js';
import { isAnalysisStart, nextGate } from './analysis-plan.js';
import {
  analysisVerdict,
  describeRole,
  gateVerdict,
  hooksVerdict,
  isReady,
  regressionRequest,
  rollbackRequest,
} from './check-verdicts.js';
import { judgeHoldProgressed, recordJudgeCounts } from './judge-progress.js';
import { NOT_RUNNING } from './observations.js';
import { rollBackRegression } from './regression-cause.js';
import type { StepDraft } from './step-draft.js';
import {
  promote,
  restartRollout,
  revertToPrimary,
  rollback,
  thresholdCause,
  type RollbackCause,
} from './transitions.js';
import { nextWeight, strategyOf, TOTAL_WEIGHT } from './weights.js';

/** What the rollout was waiting on when the deadline passed, for the alert. */
function stallCause(d: StepDraft): string {
  const s = d.status;
  const a = d.analysis;
  const { primary, canary } = d.observations;
  if (s.phase !== 'Promoting' && !isReady(canary, s.canaryRevision, a.canaryReadyThreshold)) {
    return describeRole('canary', canary, s.canaryRevision);
  }
  if (!isReady(primary, s.primaryRevision, a.primaryReadyThreshold)) {
    return describeRole('primary', primary, s.primaryRevision);
  }
  const baseline = baselineNotReady(d);
  if (baseline !== undefined) return baseline;
  return 'no verdict from the checks (metrics without enough data)';
}

/**
 * Why a fresh baseline holds the analysis (not ready, by the canary's threshold: it is
 * compared with the canary), or undefined when none runs or it is ready.
 */
function baselineNotReady(d: StepDraft): string | undefined {
  const revision = d.status.baselineRevision ?? null;
  if (revision === null) return undefined;
  const baseline = d.observations.baseline ?? NOT_RUNNING;
  if (isReady(baseline, revision, d.analysis.canaryReadyThreshold)) return undefined;
  return describeRole('baseline', baseline, revision);
}

/** "no progress for 10m: canary 0/1 ready": how long, and what the rollout was stuck on. */
function deadlineDetail(d: StepDraft): string {
  return `no progress for ${formatDuration(d.spec.canary.progressDeadlineSeconds * 1000)}: ${stallCause(d)}`;
}

/** Rollback cause for a passed progress deadline, naming what the rollout was stuck on. */
export function deadlineCause(d: StepDraft): RollbackCause {
  const detail = deadlineDetail(d);
  return {
    reason: 'DeadlineExceeded',
    message: `Rolling back ${d.name} progress deadline exceeded (${detail})`,
    alert: { severity: 'error', message: `Progress deadline exceeded (${detail})` },
  };
}

/**
 * `analysis.deadlineAction: hold`: the canary stays where it is and the deadline starts
 * again, so the warning repeats once per deadline while nothing progresses. Nothing else
 * happens in this call: a tick past the deadline was asked for no checks.
 */
function holdPastDeadline(d: StepDraft): void {
  const detail = deadlineDetail(d);
  d.progressed();
  d.event('DeadlineExceeded', `Holding ${d.name} past its progress deadline (${detail})`, 'warning');
  d.alert(
    'warn',
    `Progress deadline exceeded (${detail}); holding as analysis.deadlineAction says: promote or abort`,
  );
}

/** Runs the confirm-promotion gate; a closed gate moves to WaitingPromotion, where the analysis goes on. */
function confirmPromotion(d: StepDraft): boolean {
  const gate = gateVerdict(d.analysis, 'confirm-promotion', d.observations);
  if (gate.open) return true;
  if (d.status.phase !== 'WaitingPromotion') {
    d.setPhase('WaitingPromotion');
    if (!gate.muteAlert) d.alert('warn', 'Canary promotion is waiting for approval.');
  }
  d.event(
    'WaitingForPromotion',
    `Halt ${d.name} advancement waiting for promotion approval: ${gate.message}`,
    'warning',
  );
  return false;
}

function confirmTrafficIncrease(d: StepDraft): boolean {
  const gate = gateVerdict(d.analysis, 'confirm-traffic-increase', d.observations);
  if (!gate.open) {
    d.event(
      'WaitingForTrafficIncrease',
      `Halt ${d.name} advancement waiting for traffic increase approval: ${gate.message}`,
      'warning',
    );
  }
  return gate.open;
}

function advanceCanary(d: StepDraft): void {
  const s = d.status;
  const a = d.analysis;
  if (nextGate(a, s) === 'confirm-promotion') {
    if (confirmPromotion(d)) promote(d, 'analysis');
    return;
  }
  if (a.mirror && s.canaryWeight === 0) {
    // Flagger runs one mirror step before shifting traffic: requests are copied to the
    // canary but only the primary answers; the next tick moves to the first weight.
    if (!s.mirror) {
      if (!confirmTrafficIncrease(d)) return;
      d.route(0, { mirror: true });
      d.event('MirrorStarted', `Mirroring ${a.mirrorWeight}% of ${d.name} traffic to the canary`);
      return;
    }
  } else if (!confirmTrafficIncrease(d)) {
    return;
  }
  const weight = nextWeight(a, s.canaryWeight);
  d.route(weight);
  d.event('WeightAdvanced', `Advance ${d.name} canary weight ${weight}`);
}

function advanceAbTesting(d: StepDraft): void {
  const s = d.status;
  const total = d.analysis.iterations ?? 0;
  if (s.iterations < total) {
    d.route(TOTAL_WEIGHT, { abTesting: true });
    s.iterations += 1;
    d.event('IterationAdvanced', `Advance ${d.name} canary iteration ${s.iterations}/${total}`);
    return;
  }
  if (confirmPromotion(d)) promote(d, 'analysis');
}

function advanceBlueGreen(d: StepDraft): void {
  const s = d.status;
  const a = d.analysis;
  const total = a.iterations ?? 0;
  if (s.iterations < total) {
    if (a.mirror && !s.mirror) {
      d.route(0, { mirror: true });
      d.event('MirrorStarted', `Mirroring ${a.mirrorWeight}% of ${d.name} traffic to the canary`);
    }
    s.iterations += 1;
    d.event('IterationAdvanced', `Advance ${d.name} canary iteration ${s.iterations}/${total}`);
    return;
  }
  if (!confirmPromotion(d)) return;
  if (s.iterations === total) {
    // Flagger switches all traffic to the canary for one more analysed interval before
    // copying its spec to the primary.
    d.route(TOTAL_WEIGHT);
    s.iterations += 1;
    d.event(
      'TrafficSwitched',
      a.mirror
        ? `Stop traffic mirroring and route all ${d.name} traffic to canary`
        : `Routing all ${d.name} traffic to canary`,
    );
    return;
  }
  promote(d, 'analysis');
}

/** One call in Progressing or WaitingPromotion. */
export function analyse(d: StepDraft): void {
  const s = d.status;
  const a = d.analysis;
  if (d.revision !== s.lastAppliedSpec) {
    if (d.revision === s.lastPromotedSpec) revertToPrimary(d);
    else restartRollout(d);
    return;
  }
  if (d.spec.canary.skipAnalysis) {
    d.route(0);
    promote(d, 'skip-analysis');
    return;
  }
  if (s.failedChecks >= a.threshold) return rollback(d, thresholdCause(d));
  if (d.deadlineExceeded())
    return a.deadlineAction === 'hold' ? holdPastDeadline(d) : rollback(d, deadlineCause(d));
  // A look between check ticks (judge-looks.ts) rolls back at once, whether or not a check is due.
  const looked = regressionRequest(a, d.observations.looks ?? []);
  if (looked !== undefined) return rollBackRegression(d, looked);
  if (!d.due) return;
  d.consumeCheckTick();

  const { primary, canary } = d.observations;
  const primaryReady = isReady(primary, s.primaryRevision, a.primaryReadyThreshold);
  const canaryReady = isReady(canary, s.canaryRevision, a.canaryReadyThreshold);
  const baselineWaits = baselineNotReady(d);
  if (!primaryReady || !canaryReady || baselineWaits !== undefined) {
    const which = !canaryReady
      ? describeRole('canary', canary, s.canaryRevision)
      : !primaryReady
        ? describeRole('primary', primary, s.primaryRevision)
        : baselineWaits;
    d.event('NotReady', `Halt ${d.name} advancement: ${String(which)}`, 'warning');
    return;
  }
  const rollbackBy = rollbackRequest(a, d.observations);
  if (rollbackBy !== undefined) {
    return rollback(d, {
      reason: 'RollbackRequested',
      message: `Rolling back ${d.name} manual webhook invoked (${rollbackBy})`,
      alert: { severity: 'warn', message: 'Rolling back manual webhook invoked' },
    });
  }

  const regression = regressionRequest(a, d.observations.checks.metrics);
  if (regression !== undefined) return rollBackRegression(d, regression);

  const starting = isAnalysisStart(s);
  const verdict = starting
    ? hooksVerdict(a, 'pre-rollout', d.observations)
    : analysisVerdict(a, d.observations);
  if (verdict.kind === 'fail') {
    s.failedChecks += 1;
    d.progressed();
    recordJudgeCounts(d);
    d.event(
      starting ? 'PreRolloutFailed' : 'ChecksFailed',
      `Halt ${d.name} advancement: ${verdict.message}`,
      'warning',
    );
    // Rolling back in the tick that reaches the threshold, not one interval later as
    // Flagger does: an emergency rollback should not wait.
    if (s.failedChecks >= a.threshold) rollback(d, thresholdCause(d));
    return;
  }
  if (verdict.kind === 'hold') {
    if (judgeHoldProgressed(d)) d.progressed();
    d.event('InsufficientData', `Halt ${d.name} advancement: ${verdict.message}`, 'warning');
    return;
  }
  d.progressed();
  recordJudgeCounts(d);
  switch (strategyOf(a)) {
    case 'canary':
      return advanceCanary(d);
    case 'ab':
      return advanceAbTesting(d);
    case 'blue-green':
      return advanceBlueGreen(d);
  }
}
