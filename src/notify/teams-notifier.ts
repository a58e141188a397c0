/**
 * Microsoft Teams incoming webhooks, using the MessageCard format Flagger sends
 * (https://learn.microsoft.com/en-us/outlook/actionable-messages/message-card-reference).
 * `channel` and `username` do not apply: the webhook URL fixes both.
 */
import { appLabel, type AlertEvent, type AlertSeverity } from './alert-types.js';
import { payloadNotifier } from './notifier-transport.js';

const THEME_COLORS: Readonly<Record<AlertSeverity, string>> = {
  info: '0076D7',
  warn: 'FFA500',
  error: 'FF0000',
};

/** The MessageCard body for `alert`. */
export function teamsPayload(alert: AlertEvent, timestampMs: number): unknown {
  return {
    '@type': 'MessageCard',
    '@context': 'http://schema.org/extensions',
    themeColor: THEME_COLORS[alert.severity],
    summary: `${appLabel(alert.app)}: ${alert.message}`,
    sections: [
      {
        activityTitle: alert.message,
        activitySubtitle: appLabel(alert.app),
        facts: [
          ...alert.fields.map((field) => ({ name: field.name, value: field.value })),
          { name: 'Severity', value: alert.severity },
          { name: 'Time', value: new Date(timestampMs).toISOString() },
        ],
      },
    ],
  };
}

/** A Microsoft Teams notifier. @throws AviaryError `AVIARY_ALERT_PROVIDER_INVALID` for a bad address. */
export const createTeamsNotifier = payloadNotifier('msteams', teamsPayload);
