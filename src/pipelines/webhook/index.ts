/**
 * The webhook receiver of Aviary's git pipelines (docs/adr/0023-git-pipelines.md): what the
 * wiring imports. It starts the listener and decides nothing about pipelines; the caller's
 * `onPush` does.
 */
export { startWebhookReceiver, type WebhookReceiver } from './receiver.js';
export type { WebhookAnswer } from './json-answer.js';
export { addressKey, WebhookAdmission, type Admission, type AdmissionLimits } from './admission.js';
export {
  DEFAULT_WEBHOOK_HOST,
  DEFAULT_WEBHOOK_MAX_IN_FLIGHT,
  DEFAULT_WEBHOOK_PORT,
  DEFAULT_WEBHOOK_RATE_LIMIT,
  type PushDecision,
  type PushHandler,
  type WebhookReceiverOptions,
  type WebhookSource,
} from './receiver-options.js';
export { normaliseDelivery, refTarget, type DeliveryOutcome, type PushEvent } from './push-event.js';
export { FORGES, type Forge } from './forge.js';
export { DEFAULT_MAX_BODY_BYTES } from './request-body.js';
export {
  DEFAULT_DEDUPE_MAX_ENTRIES,
  DedupeStore,
  deliveryKey,
  eventKey,
  type DedupeClaim,
  type DedupeStoreOptions,
} from './dedupe-store.js';
export { constantTimeEqual, giteaSignature, githubSignature, verifyDelivery } from './verify.js';
