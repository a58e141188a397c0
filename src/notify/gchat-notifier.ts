/**
 * Google Chat incoming webhooks with a plain `{text}` message
 * (https://developers.google.com/workspace/chat/quickstart/webhooks). Chat's text format
 * supports `*bold*`, so the rollout name leads in bold and fields follow one per line.
 */
import { appLabel, type AlertEvent } from './alert-types.js';
import { payloadNotifier } from './notifier-transport.js';

/** The Google Chat body for `alert`. */
export function gchatPayload(alert: AlertEvent): unknown {
  const lines = [`*${appLabel(alert.app)}* (${alert.severity}) ${alert.message}`];
  for (const field of alert.fields) lines.push(`${field.name}: ${field.value}`);
  return { text: lines.join('\n') };
}

/** A Google Chat notifier. @throws AviaryError `AVIARY_ALERT_PROVIDER_INVALID` for a bad address. */
export const createGChatNotifier = payloadNotifier('gchat', gchatPayload);
