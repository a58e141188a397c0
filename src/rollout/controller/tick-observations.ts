/**
 * What a tick feeds the state machine (`step`): both roles as the target reports them, the
 * operator commands queued since the last tick, the results of the checks that are due now,
 * and the judge's look between check ticks when one is due (judge-looks.ts). The edge side of a tick, before the pure step; see docs/adr/0003-rollout-state-machine.md.
 */
import type { Target, VersionRole } from '../../target/target.js';
import type { AppRecord } from './app-record.js';
import { runChecks, runLook, type CheckRunnerDeps } from './check-runner.js';
import { judgeAsked, requiredLook } from '../step/judge-looks.js';
import {
  NO_CHECKS,
  NOT_RUNNING,
  type MetricResult,
  type Observations,
  type RoleObservation,
} from '../step/observations.js';
import { requiredChecks } from '../step/required-checks.js';

/** One look of the judge between check ticks (ADR 0017), as the controller emits it. */
export interface JudgeLook {
  readonly app: string;
  readonly at: number;
  readonly result: MetricResult;
}

/** What observing needs. */
export interface ObserveDeps {
  readonly target: Target;
  readonly checks: CheckRunnerDeps;
  /** The namespace webhook payloads name. */
  readonly namespace: string;
}

async function observeRole(target: Target, app: string, role: VersionRole): Promise<RoleObservation> {
  const status = await target.status(app, role);
  if (!status || status.desiredReplicas === 0) return NOT_RUNNING;
  return {
    revision: status.revision,
    replicas: status.desiredReplicas,
    readyReplicas: status.readyReplicas,
  };
}

/**
 * The observations of one tick of `record` at `now`. Takes the queued commands off the
 * record; a tick with commands runs no checks and no look (the command decides). Checks that
 * ran, or a look that asks for a rollback, become the record's `lastChecks`, the evidence
 * behind the tick's events; the time of a look (or of a check tick that asked the judge) is
 * the record's `lastLookAt`.
 */
export async function tickObservations(
  deps: ObserveDeps,
  record: AppRecord,
  now: number,
  signal: AbortSignal,
): Promise<Observations> {
  const { spec } = record;
  const [primary, canary, baseline] = await Promise.all([
    observeRole(deps.target, spec.name, 'primary'),
    observeRole(deps.target, spec.name, 'canary'),
    observeRole(deps.target, spec.name, 'baseline'),
  ]);
  const roles = { primary, canary, ...(baseline === NOT_RUNNING ? {} : { baseline }) };
  const commands = record.commands.splice(0);
  if (commands.length > 0) return { ...roles, checks: NO_CHECKS, commands };
  const required = requiredChecks(record.rollout, record.status, now, { primary, canary });
  const look = requiredLook(record.rollout, record.status, now, record.lastLookAt, required);
  if (judgeAsked(record.rollout, required, look)) record.lastLookAt = now;
  const looks = look === undefined ? [] : [await runLook(deps.checks, spec, look, now, signal)];
  // A look is kept as evidence only when it rolls back (saving every look would write the
  // rollout's document every second); the step rolls back then, so no check runs.
  const rollsBack = looks.some((result) => result.rollback === true);
  if (rollsBack) record.lastChecks = { webhooks: [], metrics: looks };
  if (rollsBack || (required.hookStages.length === 0 && required.metrics.length === 0))
    return { ...roles, checks: NO_CHECKS, looks, commands };
  const checks = await runChecks(
    deps.checks,
    spec,
    required,
    { namespace: deps.namespace, checksum: record.status?.lastAppliedSpec ?? '' },
    now,
    signal,
  );
  record.lastChecks = checks;
  return { ...roles, checks, looks, commands };
}
