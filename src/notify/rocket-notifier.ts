/**
 * Rocket.Chat incoming webhooks, which accept Slack's message format
 * (https://docs.rocket.chat/use-rocket.chat/workspace-administration/integrations).
 */
import type { AlertProviderConfig, NotifierOptions } from './alert-types.js';
import { PayloadNotifier } from './notifier-transport.js';
import { slackPayload } from './slack-notifier.js';

/** A Rocket.Chat notifier. @throws AviaryError `AVIARY_ALERT_PROVIDER_INVALID` for a bad address. */
export function createRocketNotifier(
  provider: AlertProviderConfig,
  options: NotifierOptions = {},
): PayloadNotifier {
  return new PayloadNotifier('rocket', provider, options, (alert, at) => slackPayload(alert, provider, at));
}
