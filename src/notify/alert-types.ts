/**
 * Alerts as Flagger models them: an `AlertProvider` (where to post), a severity, and the
 * message with its fields. Every provider implements the small {@link Notifier} interface.
 * Reference: https://docs.flagger.app/usage/alerting
 */
import type { PostResult } from '../http/post-json.js';

/** Severities, least to most severe. */
export const ALERT_SEVERITIES = ['info', 'warn', 'error'] as const;

/** How serious an alert is; also the threshold an `alerts[]` entry subscribes at. */
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** One name/value line shown under the message (Slack field, Teams fact, Discord embed field). */
export interface AlertField {
  readonly name: string;
  readonly value: string;
}

/** One alert about one rollout. Built by the functions in `messages.ts`. */
export interface AlertEvent {
  /** The rollout (Canary) name and namespace; shown as `name.namespace`. */
  readonly app: { readonly name: string; readonly namespace: string };
  readonly severity: AlertSeverity;
  readonly message: string;
  readonly fields: readonly AlertField[];
  /** Unix milliseconds; the dispatcher stamps it when absent. */
  readonly timestamp?: number;
  /** Set when the webhook that caused the alert has `muteAlert: true`; the dispatcher then sends nothing. */
  readonly muted?: boolean;
}

/**
 * A Flagger `AlertProvider` spec. Security: `address` is a secret (the webhook URL embeds the
 * token); Aviary never logs it beyond scheme and host.
 */
export interface AlertProviderConfig {
  /** Provider type, e.g. `slack`; see `NOTIFIER_KINDS`. */
  readonly type: string;
  /** Incoming-webhook URL. */
  readonly address: string;
  /** Slack / Rocket.Chat channel. Default `general`, as in Flagger. */
  readonly channel?: string | undefined;
  /** Name the message is posted as. Default `aviary`. */
  readonly username?: string | undefined;
  /** Accepted for compatibility and ignored (reported in `Notifier.warnings`). */
  readonly proxy?: string | undefined;
  /** Accepted for compatibility and ignored (reported in `Notifier.warnings`): put the URL in `address`. */
  readonly secretRef?: { readonly name: string } | undefined;
}

/** Outcome of one post: same shape as a webhook result (`ok`, `status?`, `message`, `attempts`, `durationMs`). */
export type NotifyResult = PostResult;

/** Sends alerts to one chat or HTTP endpoint. */
export interface Notifier {
  /** Provider type, e.g. `slack`. */
  readonly kind: string;
  /** Config fields accepted but ignored, in words; empty when none. */
  readonly warnings: readonly string[];
  /**
   * Posts one alert. Resolves with a {@link NotifyResult} for every HTTP or network outcome.
   * @throws `signal.reason` when `signal` aborts.
   */
  post(alert: AlertEvent, signal?: AbortSignal): Promise<NotifyResult>;
}

/** Sending options shared by every provider. */
export interface NotifierOptions {
  /** Per-attempt timeout in ms. Default 10 000. */
  readonly timeoutMs?: number | undefined;
  /** Retries after a network error, timeout, 429 or 5xx. Default 2. */
  readonly retries?: number | undefined;
  /** Pause before retry `n` (1-based). Default 250 ms doubling. */
  readonly backoffMs?: ((retry: number) => number) | undefined;
  /** Wall clock (Unix ms) for alerts without a timestamp. Default `Date.now`. */
  readonly now?: (() => number) | undefined;
}

/** `name.namespace`, the way Flagger names a rollout in every message. */
export function appLabel(app: AlertEvent['app']): string {
  return app.namespace === '' ? app.name : `${app.name}.${app.namespace}`;
}
