/**
 * Executing one step's actions for an app's record. When an action fails, the routing the
 * step asked for is forgotten with it and the controller keeps the status from before the
 * step, so the whole step is taken again next tick (every action is idempotent), as Flagger
 * retries a step; its events go out only once every effect has (action-executor.ts).
 */
import type { AppSpec } from '../../config/app-schema.js';
import type { StepResult } from '../step/actions.js';
import { terminate } from '../step/step.js';
import { executeActions, type ExecutorDeps } from './action-executor.js';
import { specFor, type AppRecord } from './app-record.js';

/** Makes `result`'s status the record's and executes its actions; see the module comment. */
export async function executeStep(
  deps: ExecutorDeps,
  record: AppRecord,
  spec: AppSpec,
  result: StepResult,
  signal: AbortSignal,
): Promise<void> {
  const specOf = (revision: string) => specFor(record, revision);
  const before = { status: record.status, routed: record.routing.lastAction };
  // The step's status is the record's while its actions run, so what listeners read with the
  // step's events is the status they tell of; it is taken back if an action fails.
  record.status = result.status;
  try {
    await executeActions(deps, spec, specOf, result.status, result.actions, record.routing, signal);
  } catch (err) {
    record.status = before.status;
    record.routing.lastAction = before.routed;
    throw err;
  }
}

/**
 * Ends an app's rollout for good (the app left the config): its terminating step, then both
 * roles' processes stopped and its routes taken off the router (gone already is fine).
 */
export async function terminateApp(
  deps: ExecutorDeps,
  record: AppRecord,
  now: number,
  signal: AbortSignal,
): Promise<void> {
  const app = record.spec.name;
  if (record.status) {
    await executeStep(deps, record, record.spec, terminate(record.rollout, record.status, now), signal);
  }
  await deps.target.stop(app, 'canary');
  await deps.target.stop(app, 'primary');
  await deps.router.finalize(app).catch(() => undefined);
}
