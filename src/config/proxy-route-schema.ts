/**
 * A router route: what it matches, the weighted versions it sends to, and how each exchange
 * is handled on the way (retries, timeouts, rewrites, header changes, mirroring, sticky
 * sessions). Semantics follow App Mesh routes and Envoy retry events; see
 * docs/adr/0001-data-plane.md.
 */
import { z } from 'zod';
import { durationMs, retryOnSchema } from './field-schemas.js';
import { headerNameSchema, matchSchema } from './proxy-match-schema.js';
import { proxyNameSchema } from './proxy-name-schema.js';

const weight = z
  .number({ message: 'expected a number >= 0' })
  .min(0)
  .max(1_000_000)
  .refine(Number.isFinite, { message: 'expected a finite number' });

const target = z.strictObject({
  version: proxyNameSchema,
  weight,
});

const retries = z.strictObject({
  /** Retries after the first try (App Mesh `maxRetries`, Flagger `attempts`). */
  attempts: z.number().int().min(0).max(10).default(0),
  perTryTimeout: durationMs.optional(),
  retryOn: retryOnSchema.default(['gateway-error', 'connect-failure']),
  /** Request bodies up to this size are kept for replay; larger bodies stream and are never replayed. */
  bufferBytes: z
    .number()
    .int()
    .min(0)
    .max(64 * 1024 * 1024)
    .default(64 * 1024),
});

/**
 * Header name → value. Keys are checked in a refinement rather than with a key schema so the
 * issue names the key and says what was expected (a key schema only reports "Invalid key").
 */
const headerValues = z.record(z.string(), z.string()).superRefine((record, ctx) => {
  for (const key of Object.keys(record)) {
    if (headerNameSchema.safeParse(key).success) continue;
    ctx.addIssue({
      code: 'custom',
      path: [key],
      message: `expected an HTTP header name (RFC 9110 token characters), got ${JSON.stringify(key)}`,
    });
  }
});

const headerOps = z.strictObject({
  set: headerValues.optional(),
  add: headerValues.optional(),
  remove: z.array(headerNameSchema).optional(),
});

/**
 * One route of a service. Target and mirror versions are checked against the service's
 * versions by the service schema, which sees both lists.
 */
export const routeSchema = z.strictObject({
  name: proxyNameSchema,
  /** App Mesh priority 0–1000; lower wins. Routes of equal priority keep their list order. */
  priority: z.number().int().min(0).max(1000).optional(),
  match: matchSchema.default({}),
  targets: z.array(target).min(1).max(100),
  retries: retries.optional(),
  /** Whole exchange, request start to the end of the response. */
  timeout: durationMs.optional(),
  /** No bytes in either direction for this long ends the exchange. */
  idleTimeout: durationMs.optional(),
  rewrite: z
    .strictObject({ prefix: z.string().startsWith('/', { message: 'expected a path starting with "/"' }) })
    .optional(),
  requestHeaders: headerOps.optional(),
  responseHeaders: headerOps.optional(),
  mirror: z
    .strictObject({
      version: proxyNameSchema,
      percent: z.number().min(0).max(100).default(100),
    })
    .optional(),
  sessionAffinity: z
    .strictObject({
      cookieName: z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { message: 'expected a cookie name' }),
      maxAge: z.number().int().min(1).default(86_400),
    })
    .optional(),
});
