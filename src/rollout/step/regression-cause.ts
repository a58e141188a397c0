/**
 * The rollback of a regression that a check proved (the sequential judge, at a check tick or
 * at a look between them), with what it saved: the event says how much canary traffic the
 * proof took and what the threshold policy would have needed at the earliest (issue 12).
 */
import type { AnalysisSpec } from '../../config/app-schema.js';
import { formatDuration } from '../../config/duration.js';
import type { RegressionRequest } from './check-verdicts.js';
import type { StepDraft } from './step-draft.js';
import { rollback, type RollbackCause } from './transitions.js';

/**
 * Analysis intervals Flagger's failed-checks counting needs at the earliest to roll back a
 * canary that fails every check: its first check comes one interval after the canary's first
 * traffic, the `threshold`-th failure one interval per check later, and the rollback at the
 * tick after that, since Flagger's tick tests `failedChecks >= threshold` before it runs the
 * checks (`advanceCanary` in pkg/controller/scheduler.go). Aviary's own threshold metrics roll
 * back in the tick that reaches the threshold, one interval sooner.
 */
export function thresholdPolicyIntervals(analysis: Pick<AnalysisSpec, 'threshold'>): number {
  return analysis.threshold + 1;
}

/** E.g. `rolled back after 38 canary requests (8s); the threshold policy (…) would have waited at least 6 intervals (6m)`. */
export function regressionSpeed(
  analysis: Pick<AnalysisSpec, 'threshold' | 'interval'>,
  proof: RegressionRequest['proof'],
): string {
  const intervals = thresholdPolicyIntervals(analysis);
  const policy =
    `the threshold policy (Flagger's: ${analysis.threshold} failed checks at ${formatDuration(analysis.interval)}) ` +
    `would have waited at least ${intervals} intervals (${formatDuration(intervals * analysis.interval)})`;
  if (proof === undefined) return `${policy} from the canary's first traffic`;
  const requests = `${proof.canaryRequests} canary request${proof.canaryRequests === 1 ? '' : 's'}`;
  return `rolled back after ${requests} (${formatDuration(proof.canaryMs)}); ${policy}`;
}

/** Rolls back for a proven regression, counting it as one failed check (it is one, and it ends the analysis). */
export function rollBackRegression(d: StepDraft, request: RegressionRequest): void {
  d.status.failedChecks += 1;
  const cause: RollbackCause = {
    reason: 'RegressionDetected',
    message: `Rolling back ${d.name}: regression detected (${request.detail}); ${regressionSpeed(d.analysis, request.proof)}`,
    alert: { severity: 'error', message: `Rolling back: regression detected (${request.detail})` },
  };
  rollback(d, cause);
}
