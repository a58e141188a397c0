/**
 * Discord webhooks in Discord's own format, `{username, content, embeds}`
 * (https://discord.com/developers/docs/resources/webhook#execute-webhook). Flagger posts Slack
 * format to the `/slack` endpoint instead; the native format keeps colours and fields and
 * needs no URL rewriting. Text is cut to Discord's documented limits
 * (https://discord.com/developers/docs/resources/message#embed-object-embed-limits) so a long
 * reason cannot make the whole alert bounce with a 400.
 */
import { appLabel, type AlertEvent, type AlertProviderConfig, type AlertSeverity } from './alert-types.js';
import { DEFAULT_USERNAME } from './slack-notifier.js';
import { payloadNotifier } from './notifier-transport.js';

const COLORS: Readonly<Record<AlertSeverity, number>> = { info: 0x2eb67d, warn: 0xecb22e, error: 0xe01e5a };
const LIMITS = { content: 2000, title: 256, description: 4096, fields: 25, fieldName: 256, fieldValue: 1024 };

function cut(text: string, limit: number): string {
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

/** The Discord body for `alert`. */
export function discordPayload(
  alert: AlertEvent,
  timestampMs: number,
  provider: Pick<AlertProviderConfig, 'username'>,
): unknown {
  return {
    username: provider.username ?? DEFAULT_USERNAME,
    content: cut(alert.message, LIMITS.content),
    embeds: [
      {
        title: cut(appLabel(alert.app), LIMITS.title),
        description: cut(alert.message, LIMITS.description),
        color: COLORS[alert.severity],
        fields: alert.fields.slice(0, LIMITS.fields).map((field) => ({
          name: cut(field.name, LIMITS.fieldName),
          value: cut(field.value, LIMITS.fieldValue),
          inline: false,
        })),
        footer: { text: `aviary · ${alert.severity}` },
        timestamp: new Date(timestampMs).toISOString(),
      },
    ],
  };
}

/**
 * A Discord notifier. `channel` is ignored: a Discord webhook posts to the channel it was
 * created for. @throws AviaryError `AVIARY_ALERT_PROVIDER_INVALID` for a bad address.
 */
export const createDiscordNotifier = payloadNotifier('discord', discordPayload);
