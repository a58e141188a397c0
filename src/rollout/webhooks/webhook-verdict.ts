/**
 * What a hook's answer means for the rollout, per hook type, and how a list of hooks of one
 * type is run. Flagger's rules (pkg/controller/scheduler_hooks.go):
 * - confirm-* hooks gate a transition: the first failure closes the gate;
 * - pre-rollout and rollout hooks are checks: the first failure counts one failed check;
 * - a rollback hook that answers 2xx (≤ 202) means "roll back now"; any failure means "carry on";
 * - post-rollout and event hooks only inform; their failures are reported, never acted on.
 */
import { webhookType, type WebhookType } from '../../config/app-webhook.js';
import type { WebhookClient } from './webhook-client.js';
import type { RolloutEvent, WebhookContext, WebhookResult, WebhookSpec } from './webhook-types.js';

/** The meaning of one result, or of a stage of hooks. */
export type WebhookVerdict =
  /** confirm-*: the transition may happen. */
  | 'open'
  /** confirm-*: hold; confirm-rollout → Waiting, confirm-promotion → WaitingPromotion. */
  | 'closed'
  /** pre-rollout / rollout: the check passed. */
  | 'passed'
  /** pre-rollout / rollout: failedChecks + 1 and no advance this tick. */
  | 'failed'
  /** rollback: roll back now. */
  | 'rollback'
  /** rollback: no hook asked for a rollback. */
  | 'continue'
  /** post-rollout / event: every hook accepted the call. */
  | 'delivered'
  /** post-rollout / event: a hook failed; report it, change nothing. */
  | 'undelivered';

/** Interprets one result for a hook of `type`. */
export function interpretWebhookResult(type: WebhookType, result: Pick<WebhookResult, 'ok'>): WebhookVerdict {
  switch (type) {
    case 'confirm-rollout':
    case 'confirm-traffic-increase':
    case 'confirm-promotion':
      return result.ok ? 'open' : 'closed';
    case 'pre-rollout':
    case 'rollout':
      return result.ok ? 'passed' : 'failed';
    case 'rollback':
      return result.ok ? 'rollback' : 'continue';
    case 'post-rollout':
    case 'event':
      return result.ok ? 'delivered' : 'undelivered';
  }
}

/** The verdict of a stage in which no hook (or every hook) agreed. */
function quietVerdict(type: WebhookType): WebhookVerdict {
  return interpretWebhookResult(type, { ok: type !== 'rollback' });
}

/** One hook's call within a stage. */
export interface WebhookCall {
  readonly hook: WebhookSpec;
  readonly result: WebhookResult;
}

/** Outcome of running every hook of one type. */
export interface WebhookStage {
  readonly type: WebhookType;
  readonly verdict: WebhookVerdict;
  /** Hooks called, in order. */
  readonly calls: readonly WebhookCall[];
  /**
   * The hook that decided a non-default verdict: the failing (closed/failed/undelivered) hook,
   * or the rollback hook that asked for a rollback. Use its `name` in events and its
   * `muteAlert` to decide whether to alert.
   */
  readonly decidedBy?: WebhookCall;
}

/** Hook types that {@link runWebhookStage} runs; `event` hooks go through {@link sendEventToHooks}. */
export type StageType = Exclude<WebhookType, 'event'>;

/**
 * Runs the hooks of `type` from `hooks` in order, as Flagger does: gate, check and
 * post-rollout types stop at the first failure; rollback stops at the first hook that asks
 * for a rollback. A stage with no hook of the type is open / passed / continue / delivered.
 * @throws `signal.reason` when `signal` aborts.
 */
export async function runWebhookStage(
  client: Pick<WebhookClient, 'call'>,
  hooks: readonly WebhookSpec[],
  type: StageType,
  context: WebhookContext,
  signal?: AbortSignal,
): Promise<WebhookStage> {
  const calls: WebhookCall[] = [];
  for (const hook of hooks.filter((h) => webhookType(h) === type)) {
    const call = { hook, result: await client.call(hook, context, signal) };
    calls.push(call);
    if (interpretWebhookResult(type, call.result) !== quietVerdict(type)) {
      return { type, verdict: interpretWebhookResult(type, call.result), calls, decidedBy: call };
    }
  }
  return { type, verdict: quietVerdict(type), calls };
}

/**
 * Sends a rollout event to every `event` hook (all are called, even after a failure).
 * The verdict is `undelivered` when any hook failed; `decidedBy` is the first that did.
 * @throws `signal.reason` when `signal` aborts.
 */
export async function sendEventToHooks(
  client: Pick<WebhookClient, 'sendEvent'>,
  hooks: readonly WebhookSpec[],
  context: WebhookContext,
  event: RolloutEvent,
  signal?: AbortSignal,
): Promise<WebhookStage> {
  const calls: WebhookCall[] = [];
  for (const hook of hooks.filter((h) => webhookType(h) === 'event')) {
    calls.push({ hook, result: await client.sendEvent(hook, context, event, signal) });
  }
  const decidedBy = calls.find((call) => !call.result.ok);
  return decidedBy === undefined
    ? { type: 'event', verdict: 'delivered', calls }
    : { type: 'event', verdict: 'undelivered', calls, decidedBy };
}
