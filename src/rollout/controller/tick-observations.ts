/**
 * What a tick feeds the state machine (`step`): both roles as the target reports them, the
 * operator commands queued since the last tick, and the results of the checks that are due
 * now. The edge side of a tick, before the pure step; see docs/adr/0003-rollout-state-machine.md.
 */
import type { Target, VersionRole } from '../../target/target.js';
import type { AppRecord } from './app-record.js';
import { runChecks, type CheckRunnerDeps } from './check-runner.js';
import { NO_CHECKS, NOT_RUNNING, type Observations, type RoleObservation } from '../step/observations.js';
import { requiredChecks } from '../step/required-checks.js';

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
 * record; a tick with commands runs no checks (the command decides). Checks that ran become
 * the record's `lastChecks`, the evidence behind the tick's events.
 */
export async function tickObservations(
  deps: ObserveDeps,
  record: AppRecord,
  now: number,
  signal: AbortSignal,
): Promise<Observations> {
  const { spec } = record;
  const [primary, canary] = await Promise.all([
    observeRole(deps.target, spec.name, 'primary'),
    observeRole(deps.target, spec.name, 'canary'),
  ]);
  const commands = record.commands.splice(0);
  if (commands.length > 0) return { primary, canary, checks: NO_CHECKS, commands };
  const required = requiredChecks(record.rollout, record.status, now, { primary, canary });
  if (required.hookStages.length === 0 && required.metrics.length === 0)
    return { primary, canary, checks: NO_CHECKS, commands };
  const checks = await runChecks(
    deps.checks,
    spec,
    required,
    { namespace: deps.namespace, checksum: record.status?.lastAppliedSpec ?? '' },
    now,
    signal,
  );
  record.lastChecks = checks;
  return { primary, canary, checks, commands };
}
