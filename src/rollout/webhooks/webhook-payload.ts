/**
 * Builds the JSON bodies Flagger sends to webhooks, byte-compatible with its
 * `CanaryWebhookPayload` so existing receivers (the Flagger load tester, custom gates) work
 * unchanged.
 */
import type { RolloutEvent, WebhookContext, WebhookPayload, WebhookSpec } from './webhook-types.js';

/** Payload for every hook type except `event`: the hook's own metadata, if any. */
export function buildWebhookPayload(hook: WebhookSpec, context: WebhookContext): WebhookPayload {
  return withMetadata(context, hook.metadata ?? {});
}

/**
 * Payload for an `event` hook. Flagger adds `eventMessage`, `eventType` and `timestamp`
 * (Unix milliseconds, as a string) to the metadata; a hook's own metadata keys are kept
 * unless they collide with those three, which win.
 */
export function buildEventPayload(
  hook: WebhookSpec,
  context: WebhookContext,
  event: RolloutEvent,
  timestampMs: number,
): WebhookPayload {
  return withMetadata(context, {
    ...hook.metadata,
    eventMessage: event.message,
    eventType: event.type,
    timestamp: String(Math.trunc(timestampMs)),
  });
}

function withMetadata(context: WebhookContext, metadata: Readonly<Record<string, string>>): WebhookPayload {
  const base = {
    name: context.name,
    namespace: context.namespace,
    phase: context.phase,
    checksum: context.checksum,
  };
  // Go's `json:"metadata,omitempty"` drops an empty map; receivers may test for the key.
  return Object.keys(metadata).length === 0 ? base : { ...base, metadata: { ...metadata } };
}
