/**
 * The `analysis.webhooks[]` entry (https://docs.flagger.app/usage/webhooks): its schema, the
 * eight hook types, the defaults, and the built-in gate URLs (`aviary:gate…`) a hook may
 * name. The rules for a usable hook live here once, for the config schema and for the
 * webhook client that refuses a misconfigured hook at call time.
 */
import { z } from 'zod';
import type { ConfigIssue } from './config-error.js';
import { durationMs, stringish } from './field-schemas.js';

/** Every hook type, in the order a rollout meets them. */
export const WEBHOOK_TYPES = [
  'confirm-rollout',
  'pre-rollout',
  'rollout',
  'confirm-traffic-increase',
  'confirm-promotion',
  'post-rollout',
  'rollback',
  'event',
] as const;

/** A Flagger hook type. */
export type WebhookType = (typeof WEBHOOK_TYPES)[number];

/** Per-attempt timeout when a hook sets none: 10 s, Flagger's default. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
/** Retries when a hook sets none: 0, Flagger's default. */
export const DEFAULT_WEBHOOK_RETRIES = 0;

/** Hook types that have a built-in gate. */
export const GATE_TYPES = [
  'confirm-rollout',
  'confirm-traffic-increase',
  'confirm-promotion',
  'rollback',
] as const;

/** A gated hook type. */
export type GateType = (typeof GATE_TYPES)[number];

/** True when `type` has a built-in gate. */
export function isGateType(type: string): type is GateType {
  return (GATE_TYPES as readonly string[]).includes(type);
}

/** URL scheme prefix of every built-in gate. */
export const GATE_URL = 'aviary:gate';

/** What a gate URL asks for: check the gate, or always approve or halt. */
export type GateUrlAction = 'check' | 'approve' | 'halt';

const GATE_URL_ACTIONS: ReadonlyMap<string, GateUrlAction> = new Map([
  [GATE_URL, 'check'],
  [`${GATE_URL}/approve`, 'approve'],
  [`${GATE_URL}/halt`, 'halt'],
]);

/** The fields that decide whether a hook can be called. */
export interface WebhookCallSettings {
  /** Hook type; Flagger treats a missing type as `rollout`. */
  readonly type?: WebhookType | undefined;
  readonly url: string;
  /** Per-attempt timeout in milliseconds. */
  readonly timeout?: number | undefined;
  readonly retries?: number | undefined;
}

/** The hook's type with Flagger's default applied. */
export function webhookType(hook: Pick<WebhookCallSettings, 'type'>): WebhookType {
  return hook.type ?? 'rollout';
}

/** True for any `aviary:` URL, valid or not, so a typo is reported instead of sent over HTTP. */
export function isGateUrl(url: string): boolean {
  return url.startsWith('aviary:');
}

/** What the gate URL `url` asks for, or undefined when it names no built-in gate. */
export function gateUrlAction(url: string): GateUrlAction | undefined {
  return GATE_URL_ACTIONS.get(url);
}

/**
 * Checks that `hook` may use its gate URL; returns a sentence naming the problem, or undefined.
 * `aviary:gate` is valid only on the gated hook types; approve and halt work on any type.
 */
export function gateUrlProblem(hook: Pick<WebhookCallSettings, 'type' | 'url'>): string | undefined {
  const action = gateUrlAction(hook.url);
  if (action === undefined) {
    return `unknown built-in gate URL "${hook.url}"; expected one of ${[...GATE_URL_ACTIONS.keys()].join(', ')}`;
  }
  const type = webhookType(hook);
  if (action === 'check' && !isGateType(type)) {
    return `${GATE_URL} works only on ${GATE_TYPES.join(', ')} hooks, not on a ${type} hook`;
  }
  return undefined;
}

/**
 * Problems with a hook's url, timeout and retries, each naming its field. Empty when the hook
 * is usable.
 */
export function webhookSpecIssues(hook: WebhookCallSettings): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (isGateUrl(hook.url)) {
    const problem = gateUrlProblem(hook);
    if (problem !== undefined) issues.push({ path: 'url', message: problem });
  } else if (!/^https?:\/\/[^/]/i.test(hook.url) || !URL.canParse(hook.url)) {
    issues.push({
      path: 'url',
      message: `expected an http(s) URL or aviary:gate, got ${JSON.stringify(hook.url)}`,
    });
  }
  if (hook.timeout !== undefined && !(Number.isFinite(hook.timeout) && hook.timeout > 0)) {
    issues.push({ path: 'timeout', message: `expected a positive duration, got ${String(hook.timeout)}` });
  }
  if (hook.retries !== undefined && !(Number.isInteger(hook.retries) && hook.retries >= 0)) {
    issues.push({ path: 'retries', message: `expected a whole number >= 0, got ${String(hook.retries)}` });
  }
  return issues;
}

/**
 * A webhook (Flagger semantics): POSTed `{name, namespace, phase, checksum, metadata}`; a
 * status above 202 is a failure. Timeout default 10s. `url` may also name a built-in manual
 * gate (`aviary:gate`, `aviary:gate/approve`, `aviary:gate/halt`), answered in-process from
 * the control API's gates (rollout/webhooks/gates-webhook.ts). Security: an http(s) URL is
 * called as given, so only list endpoints you trust with the rollout's metadata.
 */
export const webhookSchema = z
  .strictObject({
    name: z.string().min(1),
    type: z.enum(WEBHOOK_TYPES).default('rollout'),
    url: z.string().min(1),
    timeout: durationMs.default(DEFAULT_WEBHOOK_TIMEOUT_MS),
    retries: z.number().int().min(0).max(10).default(DEFAULT_WEBHOOK_RETRIES),
    metadata: z.record(z.string(), stringish).default({}),
    muteAlert: z.boolean().default(false),
  })
  .superRefine((hook, ctx) => {
    for (const issue of webhookSpecIssues(hook)) {
      ctx.addIssue({ code: 'custom', path: [issue.path], message: issue.message });
    }
  });

/** A validated webhook. */
export type WebhookSpec = z.output<typeof webhookSchema>;
