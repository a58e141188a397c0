/**
 * Flagger's alert and event texts (pkg/controller/scheduler.go, scheduler_hooks.go), as
 * functions returning an {@link AlertEvent} with Flagger's severity. Keeping the words lets
 * existing chat filters and runbooks match Aviary's alerts.
 */
import type { WebhookType } from '../config/app-webhook.js';
import { appLabel, type AlertEvent, type AlertField, type AlertSeverity } from './alert-types.js';

/** The rollout an alert is about. */
export type AlertApp = AlertEvent['app'];

/** Facts Flagger attaches to the "new revision" alert. */
export interface RolloutFacts {
  /** E.g. `Deployment/podinfo.test`. */
  readonly target?: string | undefined;
  readonly threshold?: number | undefined;
  readonly progressDeadlineSeconds?: number | undefined;
  /** E.g. `Weight step: 10 max: 50`, `A/B Testing`, `Blue/Green`. */
  readonly routing?: string | undefined;
}

/** Flagger's field names and order for {@link RolloutFacts}; absent facts are left out. */
export function rolloutFields(facts: RolloutFacts): AlertField[] {
  const fields: AlertField[] = [];
  if (facts.target !== undefined) fields.push({ name: 'Target', value: facts.target });
  if (facts.threshold !== undefined)
    fields.push({ name: 'Failed checks threshold', value: String(facts.threshold) });
  if (facts.progressDeadlineSeconds !== undefined) {
    fields.push({ name: 'Progress deadline', value: `${facts.progressDeadlineSeconds}s` });
  }
  if (facts.routing !== undefined) fields.push({ name: 'Traffic routing', value: facts.routing });
  return fields;
}

function alert(
  app: AlertApp,
  severity: AlertSeverity,
  message: string,
  fields: readonly AlertField[] = [],
): AlertEvent {
  return { app, severity, message, fields };
}

/** info: `New revision detected! Scaling up <name>.<namespace>`. */
export function newRevisionDetected(app: AlertApp, facts: RolloutFacts = {}): AlertEvent {
  return alert(app, 'info', `New revision detected! Scaling up ${appLabel(app)}`, rolloutFields(facts));
}

const APPROVAL_TEXTS: Readonly<Record<string, string>> = {
  'confirm-rollout': 'Canary is waiting for approval.',
  'confirm-traffic-increase': 'Canary traffic increase is waiting for approval.',
  'confirm-promotion': 'Canary promotion is waiting for approval.',
};

/**
 * warn: a confirm-* hook is closed. Muted (nothing is sent) when the hook sets `muteAlert`,
 * as in Flagger.
 */
export function waitingForApproval(
  app: AlertApp,
  hook: {
    readonly name: string;
    readonly type?: WebhookType | undefined;
    readonly muteAlert?: boolean | undefined;
  },
): AlertEvent {
  const text = APPROVAL_TEXTS[hook.type ?? ''] ?? 'Canary is waiting for approval.';
  const event = alert(app, 'warn', text, [{ name: 'Webhook', value: hook.name }]);
  return hook.muteAlert === true ? { ...event, muted: true } : event;
}

/** info: `Starting canary analysis for <name>.<namespace>`. */
export function startingAnalysis(app: AlertApp): AlertEvent {
  return alert(app, 'info', `Starting canary analysis for ${appLabel(app)}`);
}

/** info: `Advance <name>.<namespace> canary weight <weight>`. */
export function advanceWeight(app: AlertApp, weight: number): AlertEvent {
  return alert(app, 'info', `Advance ${appLabel(app)} canary weight ${weight}`);
}

/** info: `Advance <name>.<namespace> canary iteration <n>/<total>` (A/B and blue/green). */
export function advanceIteration(app: AlertApp, iteration: number, total: number): AlertEvent {
  return alert(app, 'info', `Advance ${appLabel(app)} canary iteration ${iteration}/${total}`);
}

/** error: `Failed checks threshold reached <n>`; the rollout is rolled back. */
export function failedChecksThresholdReached(app: AlertApp, failedChecks: number): AlertEvent {
  return alert(app, 'error', `Failed checks threshold reached ${failedChecks}`);
}

/** error: `Progress deadline exceeded <detail>`; the rollout is rolled back. */
export function progressDeadlineExceeded(app: AlertApp, detail: string): AlertEvent {
  return alert(app, 'error', `Progress deadline exceeded ${detail}`.trimEnd());
}

/** info: the analysis passed and the primary now runs the new revision. */
export function promotionFinished(app: AlertApp): AlertEvent {
  return alert(app, 'info', 'Canary analysis completed successfully, promotion finished.');
}

/** info: `Promotion completed! Scaling down <name>.<namespace>` (the canary is scaled to zero). */
export function promotionCompleted(app: AlertApp): AlertEvent {
  return alert(app, 'info', `Promotion completed! Scaling down ${appLabel(app)}`);
}

/** info: the rollout skipped analysis (`skipAnalysis: true`) and promoted at once. */
export function analysisSkipped(app: AlertApp): AlertEvent {
  return alert(app, 'info', 'Canary analysis was skipped, promotion finished.');
}

/** error: `Rolling back <name>.<namespace>: <reason>`. */
export function rollingBack(app: AlertApp, reason: string): AlertEvent {
  return alert(app, 'error', `Rolling back ${appLabel(app)}: ${reason}`);
}

/** warn: a rollback hook (or the built-in rollback gate) asked for a rollback. */
export function manualRollback(app: AlertApp, hookName: string): AlertEvent {
  return alert(app, 'warn', `Rolling back ${appLabel(app)} manual webhook invoked`, [
    { name: 'Webhook', value: hookName },
  ]);
}
