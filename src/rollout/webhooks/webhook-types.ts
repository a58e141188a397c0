/**
 * Rollout webhooks as Flagger defines them: the hook the client calls, the context of a call
 * and the JSON body POSTed to a hook. Field names are Flagger's so a Canary's `webhooks:`
 * block can be copied unchanged (https://docs.flagger.app/usage/webhooks). The hook types,
 * defaults and the schema of `analysis.webhooks[]` are config/app-webhook.ts.
 */
import type { WebhookType } from '../../config/app-webhook.js';
import type { PostResult } from '../../http/post-json.js';

/**
 * One `analysis.webhooks[]` entry, after validation (the config schema turns `timeout: 30s`
 * into milliseconds), with every defaulted field optional so callers and tests may leave
 * them out. Flagger's `disableTLS` is not supported.
 */
export interface WebhookSpec {
  /** Hook type; Flagger treats a missing type as `rollout`. */
  readonly type?: WebhookType | undefined;
  /** Name used in events, messages and gate records. */
  readonly name: string;
  /**
   * `http(s)://…`, or `aviary:gate`, `aviary:gate/approve`, `aviary:gate/halt` for a built-in
   * manual gate answered in-process (see `gates-webhook.ts`). Security: the URL may carry a
   * token; messages show it without query string or credentials.
   */
  readonly url: string;
  /** Per-attempt timeout in milliseconds. Default `DEFAULT_WEBHOOK_TIMEOUT_MS` (10 s). */
  readonly timeout?: number | undefined;
  /** Extra attempts after a network error, timeout, 429 or 5xx. Default `DEFAULT_WEBHOOK_RETRIES` (0). */
  readonly retries?: number | undefined;
  /** Sent as the payload's `metadata` (the load tester reads `cmd`, `type`, …). */
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  /** When true, a closed confirm-* gate on this hook sends no "waiting for approval" alert. */
  readonly muteAlert?: boolean | undefined;
}

/** What a hook call needs to know about the rollout. */
export interface WebhookContext {
  /** Rollout (Canary) name. */
  readonly name: string;
  /** Namespace; Aviary apps outside Kubernetes may use `default` or an empty string. */
  readonly namespace: string;
  /** Current phase, e.g. `Progressing` (Flagger's phase names). */
  readonly phase: string;
  /** Hash of the applied spec and tracked configs; identifies the revision under test. */
  readonly checksum: string;
}

/** The JSON body Flagger POSTs, with its keys in Flagger's order. `metadata` is omitted when empty. */
export interface WebhookPayload {
  readonly name: string;
  readonly namespace: string;
  readonly phase: string;
  readonly checksum: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** A rollout event forwarded to `event` hooks. */
export interface RolloutEvent {
  /** Human text, e.g. `Advance podinfo.test canary weight 10`. */
  readonly message: string;
  /** Kubernetes event type, as Flagger sends it. */
  readonly type: 'Normal' | 'Warning';
}

/**
 * Outcome of calling one hook: `ok` when it answered 200–202, `status` of the last attempt
 * (absent after a network error or timeout), `message` = response body (truncated) or a
 * sentence naming the hook, URL and failure, `attempts`, `durationMs`.
 */
export type WebhookResult = PostResult;
