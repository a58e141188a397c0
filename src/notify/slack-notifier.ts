/**
 * Slack incoming webhooks: a message with one attachment carrying colour, title and fields
 * (https://api.slack.com/messaging/webhooks, legacy attachments
 * https://api.slack.com/reference/messaging/attachments). Rocket.Chat accepts the same body.
 */
import { appLabel, type AlertEvent, type AlertProviderConfig, type AlertSeverity } from './alert-types.js';
import { payloadNotifier } from './notifier-transport.js';

/** Channel when the provider names none, as in Flagger. */
export const DEFAULT_CHANNEL = 'general';
/** Name messages are posted as when the provider names none. */
export const DEFAULT_USERNAME = 'aviary';

const COLORS: Readonly<Record<AlertSeverity, string>> = { info: 'good', warn: 'warning', error: 'danger' };

/** The Slack-format body for `alert`. */
export function slackPayload(
  alert: AlertEvent,
  timestampMs: number,
  provider: Pick<AlertProviderConfig, 'channel' | 'username'>,
): unknown {
  return {
    channel: provider.channel ?? DEFAULT_CHANNEL,
    username: provider.username ?? DEFAULT_USERNAME,
    icon_emoji: ':rocket:',
    text: alert.message,
    attachments: [
      {
        color: COLORS[alert.severity],
        title: appLabel(alert.app),
        text: alert.message,
        mrkdwn_in: ['text'],
        fields: alert.fields.map((field) => ({ title: field.name, value: field.value, short: false })),
        footer: `aviary · ${alert.severity}`,
        ts: Math.floor(timestampMs / 1000),
      },
    ],
  };
}

/** A Slack notifier. @throws AviaryError `AVIARY_ALERT_PROVIDER_INVALID` for a bad address. */
export const createSlackNotifier = payloadNotifier('slack', slackPayload);
