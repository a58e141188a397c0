/**
 * Sends one alert to every subscribed provider, as Flagger's `alert()` does for a Canary's
 * `analysis.alerts[]`: each entry has a severity threshold and a provider. Sending never
 * throws into the controller loop: every outcome, including a dead receiver or a cancelled
 * send, comes back as an {@link AlertDelivery} record.
 */
import { receivesSeverity } from './severity.js';
import type { AlertEvent, AlertSeverity, Notifier, NotifyResult } from './alert-types.js';

/** One `analysis.alerts[]` entry with its provider resolved. */
export interface AlertSubscription {
  /** The entry's name, used in delivery records. */
  readonly name: string;
  /** Lowest severity this entry receives; Flagger's default is `info`. */
  readonly severity: AlertSeverity;
  readonly notifier: Notifier;
}

/** What happened to one alert for one subscription. */
export interface AlertDelivery {
  /** Subscription name. */
  readonly alert: string;
  /** Provider type. */
  readonly provider: string;
  /** `filtered`: below the subscription's severity; `muted`: the alert came from a muted hook. */
  readonly outcome: 'sent' | 'failed' | 'filtered' | 'muted' | 'cancelled';
  /** The post's result, when one was attempted and finished. */
  readonly result?: NotifyResult;
  /** One line for logs and the UI's evidence view. Never contains a provider address. */
  readonly message: string;
}

/** Fans alerts out to subscriptions. */
export class AlertDispatcher {
  readonly #subscriptions: readonly AlertSubscription[];
  readonly #now: () => number;

  /** @param now Wall clock (Unix ms) used to stamp alerts without a timestamp. Default `Date.now`. */
  constructor(subscriptions: readonly AlertSubscription[], options: { now?: () => number } = {}) {
    this.#subscriptions = subscriptions;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Sends `alert` to each subscription whose severity threshold it meets, concurrently.
   * Never rejects; one record per subscription, in subscription order.
   */
  async dispatch(alert: AlertEvent, signal?: AbortSignal): Promise<AlertDelivery[]> {
    const stamped = alert.timestamp === undefined ? { ...alert, timestamp: this.#now() } : alert;
    return Promise.all(this.#subscriptions.map((subscription) => deliver(subscription, stamped, signal)));
  }
}

async function deliver(
  subscription: AlertSubscription,
  alert: AlertEvent,
  signal: AbortSignal | undefined,
): Promise<AlertDelivery> {
  const record = { alert: subscription.name, provider: subscription.notifier.kind };
  if (alert.muted === true)
    return { ...record, outcome: 'muted', message: 'muted by the webhook (muteAlert)' };
  if (!receivesSeverity(subscription.severity, alert.severity)) {
    return { ...record, outcome: 'filtered', message: `${alert.severity} is below ${subscription.severity}` };
  }
  try {
    const result = await subscription.notifier.post(alert, signal);
    return result.ok
      ? { ...record, outcome: 'sent', result, message: `sent in ${result.attempts} attempt(s)` }
      : { ...record, outcome: 'failed', result, message: result.message };
  } catch (error) {
    if (signal?.aborted === true)
      return { ...record, outcome: 'cancelled', message: 'cancelled before it was sent' };
    return { ...record, outcome: 'failed', message: error instanceof Error ? error.message : String(error) };
  }
}
