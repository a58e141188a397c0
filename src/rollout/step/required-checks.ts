/**
 * Which webhooks and metrics the scheduler must run before the next `step`. Flagger calls
 * hooks inside its tick; here the scheduler runs what this function asks, then hands the
 * results to `step`. Both read the same plan (analysis-plan.ts), so a check the step needs
 * is never left out, and hooks are called at most once per analysis interval.
 */
import type { MetricSpec, WebhookSpec } from '../../config/app-schema.js';
import type { RolloutSpec } from './rollout-spec.js';
import { isAnalysisStart, nextGate } from './analysis-plan.js';
import { hooksOf, isReady } from './check-verdicts.js';
import type { RoleObservation } from './observations.js';
import { SETTLED_PHASES, type RolloutPhase, type RolloutStatus } from './rollout-status.js';

/** Hook types whose results `step` reads; post-rollout and event hooks are fire-and-forget actions. */
export type CheckHookType = Exclude<WebhookSpec['type'], 'post-rollout' | 'event'>;

/**
 * The hooks of one type to run, in order, stopping at the first failure (Flagger's rule;
 * `runWebhookStage(client, stage.hooks, stage.type, {…context, phase: stage.phase})`).
 */
export interface HookStage {
  readonly type: CheckHookType;
  /** Phase to send in the payload: Progressing for gates and checks, the current phase for rollback hooks. */
  readonly phase: RolloutPhase;
  readonly hooks: readonly WebhookSpec[];
}

/** What to run before the next `step`. */
export interface RequiredChecks {
  /** Hook stages, in this order; only types with at least one hook are listed. */
  readonly hookStages: readonly HookStage[];
  /** Metrics to query, each over its own `interval`. */
  readonly metrics: readonly MetricSpec[];
}

const NONE: RequiredChecks = { hookStages: [], metrics: [] };

function stages(
  spec: RolloutSpec,
  entries: readonly (readonly [CheckHookType, RolloutPhase])[],
): HookStage[] {
  return entries
    .map(([type, phase]) => ({ type, phase, hooks: hooksOf(spec.canary.analysis, type) }))
    .filter((stage) => stage.hooks.length > 0);
}

function analysisChecks(
  spec: RolloutSpec,
  status: RolloutStatus,
  now: number,
  roles: { primary: RoleObservation; canary: RoleObservation } | undefined,
): RequiredChecks {
  const a = spec.canary.analysis;
  const deadline = status.lastProgressTime + spec.canary.progressDeadlineSeconds * 1000;
  if (spec.canary.skipAnalysis || status.failedChecks >= a.threshold || now > deadline) return NONE;
  if (now < status.nextCheckAt) return NONE;
  if (
    roles !== undefined &&
    (!isReady(roles.primary, status.primaryRevision, a.primaryReadyThreshold) ||
      !isReady(roles.canary, status.canaryRevision, a.canaryReadyThreshold))
  ) {
    return NONE;
  }
  const starting = isAnalysisStart(status);
  const gate = nextGate(a, status);
  return {
    hookStages: stages(spec, [
      ['rollback', status.phase],
      [starting ? 'pre-rollout' : 'rollout', 'Progressing'],
      ...(gate === undefined ? [] : [[gate, 'Progressing'] as const]),
    ]),
    metrics: starting ? [] : a.metrics,
  };
}

/**
 * The checks the next `step(spec, status, observations, now)` will read. Pass `roles`
 * (the processes observed for this tick) to skip hooks while a role is not ready, as
 * Flagger does; without it the checks are asked for and simply unused on such a tick. A
 * call of `step` that carries operator commands reads no check results at all.
 */
export function requiredChecks(
  spec: RolloutSpec,
  status: RolloutStatus | undefined,
  now: number,
  roles?: { primary: RoleObservation; canary: RoleObservation },
): RequiredChecks {
  if (status === undefined || spec.canary.suspend || status.paused) return NONE;
  const revision = spec.desired.revision;
  const confirmRollout = (): RequiredChecks =>
    now >= status.nextCheckAt
      ? { hookStages: stages(spec, [['confirm-rollout', 'Progressing']]), metrics: [] }
      : NONE;
  if (SETTLED_PHASES.includes(status.phase)) {
    const isNew = revision !== status.lastAppliedSpec && revision !== status.lastPromotedSpec;
    return isNew ? confirmRollout() : NONE;
  }
  switch (status.phase) {
    case 'Waiting':
      return revision === status.lastPromotedSpec ? NONE : confirmRollout();
    case 'Progressing':
    case 'WaitingPromotion':
      return revision === status.lastAppliedSpec ? analysisChecks(spec, status, now, roles) : NONE;
    default:
      return NONE;
  }
}
