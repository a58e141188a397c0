/**
 * Maps an alert provider `type` to its notifier. The names are Flagger's (`slack`, `msteams`,
 * `discord`, `rocket`, `gchat`) plus `webhook` for the generic JSON body. An unknown type is
 * an error listing the known ones, never a silent fallback.
 */
import { AviaryError } from '../errors.js';
import type { AlertProviderConfig, Notifier, NotifierOptions } from './alert-types.js';
import { createDiscordNotifier } from './discord-notifier.js';
import { createGChatNotifier } from './gchat-notifier.js';
import { createGenericNotifier } from './generic-notifier.js';
import { createRocketNotifier } from './rocket-notifier.js';
import { createSlackNotifier } from './slack-notifier.js';
import { createTeamsNotifier } from './teams-notifier.js';

type NotifierFactory = (provider: AlertProviderConfig, options: NotifierOptions) => Notifier;

const FACTORIES = {
  slack: createSlackNotifier,
  msteams: createTeamsNotifier,
  discord: createDiscordNotifier,
  rocket: createRocketNotifier,
  gchat: createGChatNotifier,
  webhook: createGenericNotifier,
} as const satisfies Record<string, NotifierFactory>;

/** A supported provider type. */
export type NotifierKind = keyof typeof FACTORIES;

/** Every supported provider type. */
export const NOTIFIER_KINDS = Object.keys(FACTORIES) as NotifierKind[];

/** True when `type` names a supported provider. */
export function isNotifierKind(type: string): type is NotifierKind {
  return Object.hasOwn(FACTORIES, type);
}

/**
 * Creates the notifier for `provider.type`.
 * @throws AviaryError `AVIARY_ALERT_PROVIDER_UNKNOWN` (listing the known types) or
 * `AVIARY_ALERT_PROVIDER_INVALID` (bad address; the address itself is never shown).
 */
export function createNotifier(provider: AlertProviderConfig, options: NotifierOptions = {}): Notifier {
  if (!isNotifierKind(provider.type)) {
    throw new AviaryError(
      'AVIARY_ALERT_PROVIDER_UNKNOWN',
      `alert provider type ${JSON.stringify(provider.type)} is not supported; known types: ${NOTIFIER_KINDS.join(', ')}`,
    );
  }
  return FACTORIES[provider.type](provider, options);
}
