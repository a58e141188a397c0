/**
 * Answers webhooks whose URL names a built-in gate, in-process, the way the Flagger load
 * tester answers its gate endpoints (200 "Approved" / 403 "Forbidden"):
 *
 * | URL                   | load tester twin                  | answer                                     |
 * |-----------------------|-----------------------------------|--------------------------------------------|
 * | `aviary:gate`         | `/gate/check`, `/rollback/check`  | 200 if the (app, hook type) gate is open, else 403 |
 * | `aviary:gate/approve` | `/gate/approve`                   | always 200                                 |
 * | `aviary:gate/halt`    | `/gate/halt`                      | always 403                                 |
 *
 * `aviary:gate` is valid only on the gated hook types; approve and halt work on any type. The
 * URLs and that rule are config/app-webhook.ts, so a bad gate URL is refused at load time.
 */
import {
  GATE_URL,
  gateUrlAction,
  gateUrlProblem,
  isGateType,
  webhookType,
} from '../../config/app-webhook.js';
import { gateAppId, type GateStore } from './gates.js';
import type { WebhookContext, WebhookResult, WebhookSpec } from './webhook-types.js';

const PAST_TENSE = { open: 'opened', close: 'closed', consume: 'consumed' } as const;

/** Answers a gate-URL hook from `store`, without I/O. Never throws. */
export function answerGateHook(
  hook: WebhookSpec,
  context: Pick<WebhookContext, 'name' | 'namespace'>,
  store: GateStore | undefined,
): WebhookResult {
  const problem = gateUrlProblem(hook);
  if (problem !== undefined) return reply(false, undefined, `webhook ${hook.name}: ${problem}`);
  const action = gateUrlAction(hook.url);
  if (action === 'approve') return reply(true, 200, 'Approved');
  if (action === 'halt') return reply(false, 403, 'Forbidden');
  const type = webhookType(hook);
  if (store === undefined || !isGateType(type)) {
    return reply(false, undefined, `webhook ${hook.name}: no gate store is configured for ${GATE_URL}`);
  }
  const app = gateAppId(context.name, context.namespace);
  const state = store.get(app, type);
  const last = state.history[state.history.length - 1];
  const why =
    last === undefined
      ? ''
      : ` (${PAST_TENSE[last.action]} by ${last.by} at ${last.at}${last.reason ? `: ${last.reason}` : ''})`;
  return state.open
    ? reply(true, 200, `Approved: gate ${type} of ${app} is open${why}`)
    : reply(false, 403, `Forbidden: gate ${type} of ${app} is closed${why}; open it through the control API`);
}

function reply(ok: boolean, status: number | undefined, message: string): WebhookResult {
  return { ok, ...(status === undefined ? {} : { status }), message, attempts: 1, durationMs: 0 };
}
