/**
 * What operators change on a running rollout: commands queued for its next tick, and the
 * built-in manual gates, opened and closed through the API and closed again once used. Gate
 * changes are saved at once (`<stateDir>/gates.json`), so a restart sees them.
 */
import type { GateType } from '../../config/app-webhook.js';
import { AviaryError } from '../../errors.js';
import type { OperatorCommand } from '../step/observations.js';
import { commandIgnoredReason } from '../step/operator-commands.js';
import type { RolloutStatus } from '../step/rollout-status.js';
import { saveGates } from '../webhooks/gate-file.js';
import { gateAppId, type GateStore } from '../webhooks/gates.js';
import type { RolloutEventRecord } from './action-executor.js';
import { eventOf, type AppRecord } from './app-record.js';

/** Where the gates are kept, and the namespace apps are named in. */
export interface GateDeps {
  readonly stateDir: string;
  readonly gates: GateStore;
  readonly namespace: string;
}

/**
 * Queues `command` on `app`'s record for its next tick.
 * @throws AviaryError `AVIARY_ROLLOUT_SUSPENDED` when the rollout is suspended.
 */
export function queueCommand(record: AppRecord, app: string, command: OperatorCommand): void {
  if (record.spec.canary.suspend) {
    throw new AviaryError(
      'AVIARY_ROLLOUT_SUSPENDED',
      `rollout ${app} is suspended (canary.suspend: true); commands are not applied`,
    );
  }
  record.commands.push(command);
}

/**
 * Why `command` would do nothing on `record`'s rollout because it has ended (Succeeded or
 * Failed, no new revision pending and nothing queued before it); undefined otherwise. A
 * suspended rollout is refused by {@link queueCommand} instead.
 */
export function endedRolloutRefusal(record: AppRecord, command: OperatorCommand): string | undefined {
  const status = record.status;
  if (!status || record.spec.canary.suspend || record.commands.length > 0) return undefined;
  if (status.phase !== 'Succeeded' && status.phase !== 'Failed') return undefined;
  if (status.lastAppliedSpec !== record.rollout.desired.revision) return undefined;
  return commandIgnoredReason(command, status);
}

/** Opens or closes a built-in gate of `app` and saves the gates; returns the event message. */
export async function changeGate(
  deps: GateDeps,
  app: string,
  gate: GateType,
  open: boolean,
  by: string,
  reason?: string,
): Promise<string> {
  const id = gateAppId(app, deps.namespace);
  const request = { by, ...(reason !== undefined ? { reason } : {}) };
  if (open) deps.gates.open(id, gate, request);
  else deps.gates.close(id, gate, request);
  await saveGates(deps.stateDir, deps.gates);
  return `${gate} gate ${open ? 'opened' : 'closed'} by ${by}${reason ? `: ${reason}` : ''}`;
}

/**
 * One-shot gates close again once the transition they allowed has happened. Saved at once:
 * a restart must not find a used rollback gate open and roll back the next release.
 */
export async function consumeGates(
  deps: GateDeps,
  app: string,
  before: RolloutStatus | undefined,
  after: RolloutStatus,
): Promise<void> {
  if (!before || before.phase === after.phase) return;
  const id = gateAppId(app, deps.namespace);
  if (after.phase === 'Failed' && deps.gates.consume(id, 'rollback', 'rollout rolled back'))
    await saveGates(deps.stateDir, deps.gates);
}

/**
 * What an operator command does to a record: queued, with a `CommandReceived` event; or, when
 * the step would ignore it on a rollout that has ended, refused (`AVIARY_CONFLICT`) with a
 * `CommandIgnored` event, so the operator learns at once that it did nothing.
 */
export function acceptCommand(
  record: AppRecord,
  app: string,
  command: OperatorCommand,
  by: string,
  now: number,
): { readonly event: RolloutEventRecord; readonly refusal?: AviaryError } {
  const ignored = endedRolloutRefusal(record, command);
  if (ignored !== undefined) {
    const message = `Ignored ${command.kind} for ${app} requested by ${by}: ${ignored}`;
    return {
      event: eventOf(record, app, now, 'CommandIgnored', message, 'warning'),
      refusal: new AviaryError('AVIARY_CONFLICT', `${command.kind} ${app} ignored: ${ignored}`),
    };
  }
  queueCommand(record, app, command);
  return { event: eventOf(record, app, now, 'CommandReceived', `${command.kind} requested by ${by}`) };
}
