/**
 * Builders of specs, statuses and observations for driving the state machine by hand:
 * table-driven tests, the simulator, and anyone reproducing a rollout from a bug report.
 * Each builder gives a consistent value for its phase and takes overrides for the rest.
 */
import { appSchema, type AppSpec, type AppSpecInput, type ProcessSpec } from '../../src/config/app-schema.js';
import type { RolloutSpec } from '../../src/rollout/step/rollout-spec.js';
import { revisionOf } from '../../src/target/process/version-spec.js';
import type { RolloutAction } from '../../src/rollout/step/actions.js';
import { NOT_RUNNING, type Observations, type RoleObservation } from '../../src/rollout/step/observations.js';
import {
  promotedCondition,
  type RolloutPhase,
  type RolloutStatus,
} from '../../src/rollout/step/rollout-status.js';

/** Revision the primary ran before the rollout under test (any 12 hex digits would do). */
export const PREVIOUS_REVISION = 'a1b2c3d4e5f6';

/** An app spec with what the state machine sees of it, as the controller derives it. */
export type ScenarioApp = AppSpec & RolloutSpec;

/**
 * `canary` with the judge off unless it names `analysis.judge`: the suites built on these
 * specs test Flagger's threshold semantics, which the judge (on by default for a weighted
 * canary) would hold for want of counts; the judge's own are judge-evaluator.test.ts.
 */
function withoutDefaultJudge(canary: AppSpecInput['canary']): AppSpecInput['canary'] {
  const analysis = (canary as { analysis?: Record<string, unknown> } | undefined)?.analysis;
  if (analysis === undefined || 'judge' in analysis) return canary;
  return { ...canary, analysis: { ...analysis, judge: false } };
}

/**
 * Builds a validated app spec; the defaults make a reachable app run by `node server.js`.
 * `desired` is what the process target identifies its workload as.
 */
export function appSpec(input: Partial<AppSpecInput> = {}): ScenarioApp {
  const app = appSchema.parse({
    name: 'webapp',
    path: '/',
    process: { command: 'node', args: ['server.js'], env: { VERSION: '2' } },
    ...input,
    ...(input.canary !== undefined ? { canary: withoutDefaultJudge(input.canary) } : {}),
  });
  const workload = app.workload as ProcessSpec;
  return { ...app, desired: { revision: revisionOf(workload), replicas: workload.replicas } };
}

/** A role running `revision` with every replica ready. */
export function readyRole(revision: string, replicas = 1): RoleObservation {
  return { revision, replicas, readyReplicas: replicas };
}

/** Observations with nothing running, no results and no commands, except as given. */
export function observations(partial: Partial<Observations> = {}): Observations {
  return {
    primary: NOT_RUNNING,
    canary: NOT_RUNNING,
    checks: { webhooks: [], metrics: [] },
    commands: [],
    ...partial,
  };
}

const CANARY_PHASES: readonly RolloutPhase[] = ['Progressing', 'WaitingPromotion', 'Promoting', 'Finalising'];
const PROMOTING_PHASES: readonly RolloutPhase[] = ['Promoting', 'Finalising'];

/**
 * A status in `phase` for a rollout of `spec`'s revision over {@link PREVIOUS_REVISION}:
 * the canary runs the desired revision in the analysis and promotion phases, the primary
 * runs it once promoting. Clocks start at 0; pass overrides for the rest.
 */
export function statusIn(
  spec: RolloutSpec,
  phase: RolloutPhase,
  overrides: Partial<RolloutStatus> = {},
): RolloutStatus {
  const desired = spec.desired.revision;
  const settledOnPrevious = phase === 'Initialized' || phase === 'Succeeded';
  return {
    phase,
    canaryWeight: 0,
    mirror: false,
    abTesting: false,
    failedChecks: 0,
    iterations: 0,
    lastAppliedSpec: settledOnPrevious ? PREVIOUS_REVISION : desired,
    lastPromotedSpec: PREVIOUS_REVISION,
    primaryRevision: PROMOTING_PHASES.includes(phase) ? desired : PREVIOUS_REVISION,
    canaryRevision: CANARY_PHASES.includes(phase) ? desired : null,
    promoted: promotedCondition(phase, undefined, 0),
    lastTransitionTime: 0,
    lastProgressTime: 0,
    nextCheckAt: 0,
    paused: false,
    ...overrides,
  };
}

/** Every role ready, running what `status` says it runs. */
export function rolesOf(status: RolloutStatus): Pick<Observations, 'primary' | 'canary' | 'baseline'> {
  const baseline = status.baselineRevision ?? null;
  return {
    primary: readyRole(status.primaryRevision),
    canary: status.canaryRevision === null ? NOT_RUNNING : readyRole(status.canaryRevision),
    ...(baseline === null ? {} : { baseline: readyRole(baseline) }),
  };
}

/**
 * One line per action, for exact assertions and logs: `routes 90/10` (`routes 80/10/10` with a
 * fresh baseline: primary/canary/baseline), `start-canary desired`,
 * `promote-spec previous`, `stop canary`, `alert warn: …`, `event WeightAdvanced`. Revisions
 * read `desired` (the spec's) or `previous` ({@link PREVIOUS_REVISION}).
 */
export function summarise(spec: RolloutSpec, actions: readonly RolloutAction[]): string[] {
  const desired = spec.desired.revision;
  const name = (revision: string) =>
    revision === desired ? 'desired' : revision === PREVIOUS_REVISION ? 'previous' : revision;
  return actions.map((a) => {
    switch (a.kind) {
      case 'start-canary':
      case 'start-baseline':
      case 'promote-spec':
        return `${a.kind} ${name(a.revision)}`;
      case 'scale':
        return `scale ${a.role} ${a.replicas}`;
      case 'stop':
        return `stop ${a.role}`;
      case 'set-routes':
        return `routes ${a.primaryWeight}/${a.canaryWeight}${a.baselineWeight !== undefined ? `/${a.baselineWeight}` : ''}${a.mirror ? ` mirror ${a.mirrorWeight ?? 100}%` : ''}${a.abTesting ? ' ab' : ''}`;
      case 'run-hooks':
        return `hooks ${a.type}`;
      case 'alert':
        return `alert ${a.severity}: ${a.message}`;
      case 'event':
        return `event ${a.reason}`;
    }
  });
}
