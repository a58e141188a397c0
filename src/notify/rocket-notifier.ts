/**
 * Rocket.Chat incoming webhooks, which accept Slack's message format
 * (https://docs.rocket.chat/use-rocket.chat/workspace-administration/integrations).
 */
import { payloadNotifier } from './notifier-transport.js';
import { slackPayload } from './slack-notifier.js';

/** A Rocket.Chat notifier. @throws AviaryError `AVIARY_ALERT_PROVIDER_INVALID` for a bad address. */
export const createRocketNotifier = payloadNotifier('rocket', slackPayload);
