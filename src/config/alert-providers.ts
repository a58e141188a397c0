/**
 * Flagger `AlertProvider`s as `aviary.yaml` lists them under `alertProviders`: the one list of
 * alert provider types. The notifier registry (src/notify/notifier-registry.ts) is typed by
 * it, so a type added here fails to compile until its notifier exists.
 */
import { z } from 'zod';

/**
 * The supported types: Flagger's names (`slack`, `msteams`, `discord`, `rocket`, `gchat`)
 * plus `webhook` for a generic JSON body.
 */
export const ALERT_PROVIDER_TYPES = ['slack', 'msteams', 'discord', 'rocket', 'gchat', 'webhook'] as const;

/** A supported alert provider type. */
export type AlertProviderType = (typeof ALERT_PROVIDER_TYPES)[number];

/**
 * One alert provider. Security: `address` is the provider's secret webhook URL; it is never
 * logged in full.
 */
export const alertProviderSchema = z.strictObject({
  name: z.string().min(1),
  type: z.enum(ALERT_PROVIDER_TYPES),
  address: z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' }),
  channel: z.string().optional(),
  username: z.string().optional(),
});
