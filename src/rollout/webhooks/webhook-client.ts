/**
 * Calls rollout webhooks with Flagger's semantics: POST the JSON payload, a status above 202
 * is a failure whose response body is the error text, the default timeout is 10 s per
 * attempt, and `event` hooks receive each rollout event. Hooks whose URL is a built-in gate
 * (`aviary:gate…`) are answered in-process from a {@link GateStore}. A misconfigured hook
 * (config/app-webhook.ts `webhookSpecIssues`) fails without a request.
 * Semantics: https://docs.flagger.app/usage/webhooks
 */
import {
  DEFAULT_WEBHOOK_RETRIES,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  isGateUrl,
  webhookSpecIssues,
} from '../../config/app-webhook.js';
import type { GateStore } from './gates.js';
import { answerGateHook } from './gates-webhook.js';
import { displayUrl, postJson } from '../../http/post-json.js';
import { buildEventPayload, buildWebhookPayload } from './webhook-payload.js';
import type {
  RolloutEvent,
  WebhookContext,
  WebhookPayload,
  WebhookResult,
  WebhookSpec,
} from './webhook-types.js';

/** Highest status Flagger accepts: 200 OK, 201 Created and 202 Accepted pass; 203 and up fail. */
export const HIGHEST_PASSING_STATUS = 202;

/** Options for {@link WebhookClient}. */
export interface WebhookClientOptions {
  /** Answers `aviary:gate` hooks. Without it, such hooks fail with a message saying so. */
  readonly gates?: GateStore | undefined;
  /** Pause before retry `n` (1-based); default 250 ms doubling to 2 s. Tests pass `() => 0`. */
  readonly backoffMs?: ((retry: number) => number) | undefined;
  /** Wall clock (Unix ms) for event timestamps. Default `Date.now`. */
  readonly now?: (() => number) | undefined;
}

/** Sends rollout webhooks. Stateless apart from its options; one instance serves every rollout. */
export class WebhookClient {
  readonly #options: WebhookClientOptions;

  constructor(options: WebhookClientOptions = {}) {
    this.#options = options;
  }

  /**
   * Calls `hook` with the rollout's payload. Resolves with a {@link WebhookResult} for every
   * HTTP or network outcome, including a misconfigured hook.
   * @throws `signal.reason` when `signal` aborts: a cancelled call has no verdict.
   */
  call(hook: WebhookSpec, context: WebhookContext, signal?: AbortSignal): Promise<WebhookResult> {
    return this.#send(hook, context, buildWebhookPayload(hook, context), signal);
  }

  /**
   * Forwards a rollout event to an `event` hook, with `eventMessage`, `eventType` and
   * `timestamp` added to the metadata. Same results and cancellation as {@link call}.
   */
  sendEvent(
    hook: WebhookSpec,
    context: WebhookContext,
    event: RolloutEvent,
    signal?: AbortSignal,
  ): Promise<WebhookResult> {
    const now = this.#options.now ?? Date.now;
    return this.#send(hook, context, buildEventPayload(hook, context, event, now()), signal);
  }

  async #send(
    hook: WebhookSpec,
    context: WebhookContext,
    payload: WebhookPayload,
    signal: AbortSignal | undefined,
  ): Promise<WebhookResult> {
    signal?.throwIfAborted();
    if (isGateUrl(hook.url)) return answerGateHook(hook, context, this.#options.gates);
    const issues = webhookSpecIssues(hook);
    if (issues.length > 0) {
      const detail = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
      return {
        ok: false,
        message: `webhook ${hook.name} is misconfigured: ${detail}`,
        attempts: 0,
        durationMs: 0,
      };
    }
    return postJson(hook.url, payload, {
      timeoutMs: hook.timeout ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
      retries: hook.retries ?? DEFAULT_WEBHOOK_RETRIES,
      label: `webhook ${hook.name} POST ${displayUrl(hook.url)}`,
      isSuccess: (status) => status >= 200 && status <= HIGHEST_PASSING_STATUS,
      signal,
      backoffMs: this.#options.backoffMs,
    });
  }
}
