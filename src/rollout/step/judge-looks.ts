/**
 * When the sequential judge looks between check ticks (issue 12, ADR 0017). In an analysis
 * phase with `analysis.judge`, the judge's regression tests are asked every
 * `judge.lookInterval` (default 1 s), whatever `analysis.interval` is, and a regression found
 * at a look rolls back at once; steps still advance on check ticks only, and threshold
 * metrics keep Flagger's cadence. Pure, like `requiredChecks`: the scheduler passes the
 * time of the last look it ran (in memory; none after a restart, so the first tick looks),
 * so the controller and the bench's virtual clock share this code.
 */
import { JUDGE_METRIC_NAME } from '../../config/app-analysis.js';
import type { AnalysisSpec, MetricSpec } from '../../config/app-schema.js';
import { isAnalysisStart } from './analysis-plan.js';
import type { RequiredChecks } from './required-checks.js';
import type { RolloutSpec } from './rollout-spec.js';
import { ANALYSIS_PHASES, type RolloutStatus } from './rollout-status.js';

/** The check that looks between check ticks: the judge's, when `analysis.judge` is set. */
export function lookedMetric(analysis: AnalysisSpec): MetricSpec | undefined {
  if (analysis.judge === undefined) return undefined;
  return analysis.metrics.find((m) => m.name === JUDGE_METRIC_NAME && m.templateRef === undefined);
}

/**
 * When the next look is due, or undefined when no look applies: no judge, not in an
 * analysis phase, paused or suspended, a newer revision waiting to restart the analysis, or
 * the analysis not started (no traffic or copies routed to the canary yet, so nothing to
 * look at). With no look run yet (`lastLookAt` undefined) the look is due at once.
 */
export function nextLookAt(
  spec: RolloutSpec,
  status: RolloutStatus | undefined,
  lastLookAt: number | undefined,
): number | undefined {
  if (status === undefined || spec.canary.suspend || spec.canary.skipAnalysis || status.paused) {
    return undefined;
  }
  if (!ANALYSIS_PHASES.includes(status.phase) || spec.desired.revision !== status.lastAppliedSpec) {
    return undefined;
  }
  const judge = spec.canary.analysis.judge;
  if (judge === undefined || lookedMetric(spec.canary.analysis) === undefined || isAnalysisStart(status)) {
    return undefined;
  }
  return lastLookAt === undefined ? Number.NEGATIVE_INFINITY : lastLookAt + judge.lookInterval;
}

/**
 * The look to run before the next `step(spec, status, observations, now)`, handing its
 * result in as `observations.looks`; undefined when none is due, or when `checks` (what
 * `requiredChecks` asked for this call) already ask the judge, as check ticks do.
 */
export function requiredLook(
  spec: RolloutSpec,
  status: RolloutStatus | undefined,
  now: number,
  lastLookAt: number | undefined,
  checks: RequiredChecks,
): MetricSpec | undefined {
  const due = nextLookAt(spec, status, lastLookAt);
  if (due === undefined || now < due) return undefined;
  const metric = lookedMetric(spec.canary.analysis);
  if (metric === undefined || checks.metrics.some((m) => m.name === metric.name)) return undefined;
  return metric;
}

/**
 * Whether a call that ran `checks` and `look` asked the judge (a look, or a check tick with
 * the judge among its metrics): the scheduler then takes `now` as its last look.
 */
export function judgeAsked(spec: RolloutSpec, checks: RequiredChecks, look: MetricSpec | undefined): boolean {
  const metric = lookedMetric(spec.canary.analysis);
  return look !== undefined || (metric !== undefined && checks.metrics.some((m) => m.name === metric.name));
}

/**
 * When the scheduler should call `step` next for checks or looks: the sooner of
 * `status.nextCheckAt` and the next look (other reasons to call, such as commands or
 * readiness, are the scheduler's own).
 */
export function nextWakeAt(spec: RolloutSpec, status: RolloutStatus, lastLookAt: number | undefined): number {
  return Math.min(status.nextCheckAt, nextLookAt(spec, status, lastLookAt) ?? Number.POSITIVE_INFINITY);
}
