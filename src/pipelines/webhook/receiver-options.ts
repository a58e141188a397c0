/**
 * The options of the webhook receiver: one schema, the defaults and limits in one place, and
 * errors that name the option (`sources[1].repository: expected owner/name`). Secrets arrive
 * already resolved by the caller (from a file or an environment variable) and never appear
 * in an error message.
 */
import { z } from 'zod';
import { ConfigError } from '../../config/config-error.js';
import { DEFAULT_WEBHOOK_MAX_IN_FLIGHT, DEFAULT_WEBHOOK_RATE_LIMIT } from '../../config/pipelines-schema.js';
import { parseOrThrow } from '../../config/schema-issues.js';
import type { StateFileSystem } from '../../rollout/state/state-files.js';
import { DEFAULT_DEDUPE_MAX_ENTRIES } from './dedupe-store.js';
import { FORGES, type Forge } from './forge.js';
import type { PushEvent } from './push-event.js';
import { DEFAULT_MAX_BODY_BYTES } from './request-body.js';

/** Address the receiver listens on by default: loopback only, until the user opens it up. */
export const DEFAULT_WEBHOOK_HOST = '127.0.0.1';

/** Port the receiver listens on when the configuration names none (`pipelines.webhooks.port`). */
export { DEFAULT_WEBHOOK_PORT } from '../../config/pipelines-schema.js';
/** Admission defaults (`pipelines.webhooks.maxInFlight`, `.rateLimit`); see admission.ts. */
export { DEFAULT_WEBHOOK_MAX_IN_FLIGHT, DEFAULT_WEBHOOK_RATE_LIMIT } from '../../config/pipelines-schema.js';

/** One repository whose webhooks are accepted. */
export interface WebhookSource {
  /** Unique among sources; part of the dedupe key (source, ref, after). */
  readonly name: string;
  /** Which endpoint it posts to: `/hooks/<forge>`. */
  readonly forge: Forge;
  /** `owner/name`, or GitLab's `path_with_namespace`; the payload must name it (case-insensitively). */
  readonly repository: string;
  /** The webhook secret (GitLab: the token). Security: never logged, never echoed. */
  readonly secret: string;
}

/** What the caller made of a push: a queued run, or why it starts none. */
export type PushDecision = { readonly runId: string } | { readonly ignored: string };

/**
 * Called for each new, verified push of a configured repository. It must only decide and
 * enqueue, and resolve quickly: the forge waits for the answer (GitHub gives up after 10 s
 * and does not redeliver on its own). A rejection answers 500 and leaves the delivery
 * unrecorded, so a redelivery is looked at again.
 */
export type PushHandler = (event: PushEvent, source: WebhookSource) => Promise<PushDecision>;

/** Options of `startWebhookReceiver`. */
export interface WebhookReceiverOptions {
  /** Repositories to accept; several may share a forge. */
  readonly sources: readonly WebhookSource[];
  /** Port to listen on; 0 picks a free one. */
  readonly port: number;
  /** Default {@link DEFAULT_WEBHOOK_HOST}. This is the one port meant to face the outside. */
  readonly host?: string;
  /** Largest body accepted; default {@link DEFAULT_MAX_BODY_BYTES} (1 MiB). */
  readonly maxBodyBytes?: number;
  /** The dedupe store's JSON-lines file. */
  readonly dedupeFile: string;
  /** Records the dedupe file keeps; default {@link DEFAULT_DEDUPE_MAX_ENTRIES}. */
  readonly dedupeMaxEntries?: number;
  /** The dedupe file's file-system seam; default the real one. Tests inject failing writes here. */
  readonly dedupeFileSystem?: StateFileSystem;
  /** Deliveries handled at once (one address: half); 503 past it. Default {@link DEFAULT_WEBHOOK_MAX_IN_FLIGHT}. */
  readonly maxInFlight?: number;
  /** Each remote address's token bucket; 429 when empty. Default {@link DEFAULT_WEBHOOK_RATE_LIMIT}. */
  readonly rateLimit?: { readonly perSecond: number; readonly burst: number };
  /** Milliseconds on a monotonic scale, for the token buckets; default `performance.now`. A test seam. */
  readonly clock?: () => number;
  readonly onPush: PushHandler;
  /** Told of failures answered with 500 (a rejected `onPush`, a failed dedupe write); default console.error. */
  readonly onError?: (err: unknown, context: string) => void;
}

const sourceName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected a name of letters, digits, ".", "_" and "-"');

const sourceSchema = z.object({
  name: sourceName,
  forge: z.enum(FORGES as [Forge, ...Forge[]]),
  repository: z
    .string()
    .regex(/^[^/\s]+(?:\/[^/\s]+)+$/, 'expected owner/name (GitLab: the path with its namespace)'),
  secret: z.string().min(1),
});

const optionsSchema = z
  .object({
    sources: z.array(sourceSchema).min(1),
    port: z.number().int().min(0).max(65_535),
    host: z.string().min(1).default(DEFAULT_WEBHOOK_HOST),
    maxBodyBytes: z.number().int().min(1).default(DEFAULT_MAX_BODY_BYTES),
    dedupeFile: z.string().min(1),
    dedupeMaxEntries: z.number().int().min(1).default(DEFAULT_DEDUPE_MAX_ENTRIES),
    maxInFlight: z.number().int().min(1).default(DEFAULT_WEBHOOK_MAX_IN_FLIGHT),
    rateLimit: z
      .strictObject({ perSecond: z.number().positive(), burst: z.number().int().min(1) })
      .default({ ...DEFAULT_WEBHOOK_RATE_LIMIT }),
  })
  .superRefine((options, ctx) => {
    const seen = new Set<string>();
    options.sources.forEach((source, index) => {
      if (seen.has(source.name))
        ctx.addIssue({
          code: 'custom',
          path: ['sources', index, 'name'],
          message: `duplicate name "${source.name}"`,
        });
      seen.add(source.name);
    });
  });

/** The options with defaults applied. */
export interface ResolvedReceiverOptions {
  readonly sources: readonly WebhookSource[];
  readonly port: number;
  readonly host: string;
  readonly maxBodyBytes: number;
  readonly dedupeFile: string;
  readonly dedupeMaxEntries: number;
  readonly dedupeFileSystem?: StateFileSystem;
  readonly maxInFlight: number;
  readonly rateLimit: { readonly perSecond: number; readonly burst: number };
  readonly clock: () => number;
  readonly onPush: PushHandler;
  readonly onError: (err: unknown, context: string) => void;
}

/**
 * Validates the options and applies the defaults.
 * @throws ConfigError naming every bad option
 */
export function resolveReceiverOptions(options: WebhookReceiverOptions): ResolvedReceiverOptions {
  const source = 'webhook receiver options';
  if (typeof options.onPush !== 'function')
    throw new ConfigError(source, [{ path: 'onPush', message: 'expected a function' }]);
  const { onPush, onError, dedupeFileSystem, clock, ...data } = options;
  const parsed = parseOrThrow(optionsSchema, data, source);
  return {
    ...parsed,
    ...(dedupeFileSystem && { dedupeFileSystem }),
    clock: clock ?? (() => performance.now()),
    onPush,
    onError: onError ?? ((err, context) => console.error(`webhook receiver: ${context}:`, err)),
  };
}
