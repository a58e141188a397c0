/**
 * Maps an alert provider `type` to its notifier. The names are Flagger's (`slack`, `msteams`,
 * `discord`, `rocket`, `gchat`) plus `webhook` for the generic JSON body. An unknown type is
 * an error listing the known ones, never a silent fallback. The types are the configuration's
 * (src/config/alert-providers.ts); this table must have a notifier for each.
 */
import type { AlertProviderType } from '../config/alert-providers.js';
import { Registry, type EngineFactory } from '../registry.js';
import type { AlertProviderConfig, Notifier, NotifierOptions } from './alert-types.js';
import { createDiscordNotifier } from './discord-notifier.js';
import { createGChatNotifier } from './gchat-notifier.js';
import { createGenericNotifier } from './generic-notifier.js';
import { createRocketNotifier } from './rocket-notifier.js';
import { createSlackNotifier } from './slack-notifier.js';
import { createTeamsNotifier } from './teams-notifier.js';

type NotifierFactory = EngineFactory<AlertProviderConfig, NotifierOptions, Notifier>;

const FACTORIES: Record<AlertProviderType, NotifierFactory> = {
  slack: createSlackNotifier,
  msteams: createTeamsNotifier,
  discord: createDiscordNotifier,
  rocket: createRocketNotifier,
  gchat: createGChatNotifier,
  webhook: createGenericNotifier,
};

/** The notifier family: one factory per alert provider type of src/config/alert-providers.ts. */
export const notifierRegistry = new Registry(
  'alert provider',
  'alertProviders[].type',
  'AVIARY_ALERT_PROVIDER_UNKNOWN',
  FACTORIES,
);

/** A supported provider type. */
export type NotifierKind = AlertProviderType;

/** Every supported provider type. */
export const NOTIFIER_KINDS: readonly NotifierKind[] = notifierRegistry.kinds();

/**
 * Creates the notifier for `provider.type`.
 * @throws AviaryError `AVIARY_ALERT_PROVIDER_UNKNOWN` (listing the known types) or
 * `AVIARY_ALERT_PROVIDER_INVALID` (bad address; the address itself is never shown).
 */
export function createNotifier(provider: AlertProviderConfig, options: NotifierOptions = {}): Notifier {
  return notifierRegistry.create(provider.type, provider, options);
}
