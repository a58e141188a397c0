/**
 * Executing one step's actions for an app's record. When an action fails, the routing the
 * step asked for is forgotten with it and the controller keeps the status from before the
 * step, so the whole step is taken again next tick (every action is idempotent), as Flagger
 * retries a step; its events go out only once every effect has (action-executor.ts).
 */
import type { AppSpec } from '../../config/app-schema.js';
import type { StepResult } from '../step/actions.js';
import { executeActions, type ExecutorDeps } from './action-executor.js';
import { specFor, type AppRecord } from './app-record.js';

/** Executes `result`'s actions for `record`, whose spec was `spec` when the step was taken. */
export async function executeStep(
  deps: ExecutorDeps,
  record: AppRecord,
  spec: AppSpec,
  result: StepResult,
  signal: AbortSignal,
): Promise<void> {
  const specOf = (revision: string) => specFor(record, revision);
  const routed = record.routing.lastAction;
  try {
    await executeActions(deps, spec, specOf, result.status, result.actions, record.routing, signal);
  } catch (err) {
    record.routing.lastAction = routed;
    throw err;
  }
}
