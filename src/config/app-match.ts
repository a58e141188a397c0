/**
 * Request matching and rewriting as written in a Flagger `Canary` (`service.match`,
 * `service.rewrite`, `service.headers`, `analysis.match`). Flagger takes these shapes from
 * Istio's VirtualService (`HTTPMatchRequest`, `StringMatch`, `HTTPRewrite`, `Headers`):
 * https://istio.io/latest/docs/reference/config/networking/virtual-service/#HTTPMatchRequest
 * so `headers: {x-canary: {exact: insider}}` and `headers.cookie.regex` mean what they mean there.
 */
import { z } from 'zod';
import { regexSource } from './field-schemas.js';

const STRING_MATCH_KINDS = ['exact', 'prefix', 'suffix', 'regex'] as const;

/** Istio `StringMatch`: exactly one of exact, prefix, suffix or regex (RE2-like syntax, anchored by the router). */
export const stringMatchSchema = z
  .strictObject({
    exact: z.string().optional(),
    prefix: z.string().optional(),
    suffix: z.string().optional(),
    regex: regexSource.optional(),
  })
  .superRefine((m, ctx) => {
    const kinds = STRING_MATCH_KINDS.filter((k) => m[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message:
          kinds.length === 0
            ? `expected one of ${STRING_MATCH_KINDS.join(', ')}`
            : `expected only one of ${STRING_MATCH_KINDS.join(', ')}, got ${kinds.join(' and ')}`,
      });
    }
  });

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A map keyed by HTTP header names (RFC 9110 token characters); the key is named in the error path. */
function headerKeyed<T extends z.ZodType>(value: T) {
  return z.record(z.string(), value).superRefine((record, ctx) => {
    for (const key of Object.keys(record)) {
      if (!HEADER_NAME.test(key)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: 'expected an HTTP header name (RFC 9110 token characters)',
        });
      }
    }
  });
}

/**
 * One Istio `HTTPMatchRequest`: every condition given must hold (AND); a list of them is an OR.
 * Header names are case-insensitive; `cookie` matches the raw Cookie header.
 */
export const httpMatchSchema = z
  .strictObject({
    name: z.string().optional(),
    uri: stringMatchSchema.optional(),
    method: stringMatchSchema.optional(),
    headers: headerKeyed(stringMatchSchema).optional(),
    queryParams: z.record(z.string(), stringMatchSchema).optional(),
  })
  .superRefine((m, ctx) => {
    if (
      m.uri === undefined &&
      m.method === undefined &&
      m.headers === undefined &&
      m.queryParams === undefined
    ) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected at least one of uri, method, headers or queryParams',
      });
    }
  });

/** Istio `HTTPRewrite`, path part only: replaces the matched `uri.prefix` (or the whole path). */
export const rewriteSchema = z.strictObject({
  uri: z.string().startsWith('/', { message: 'expected a path starting with "/"' }),
});

const headerOperations = z.strictObject({
  set: headerKeyed(z.string()).optional(),
  add: headerKeyed(z.string()).optional(),
  remove: z.array(z.string().regex(HEADER_NAME, { message: 'expected an HTTP header name' })).optional(),
});

/** Istio `Headers`: operations on the request before it is forwarded and on the response. */
export const headersSchema = z.strictObject({
  request: headerOperations.optional(),
  response: headerOperations.optional(),
});

/** A validated Istio-style string match. */
export type StringMatch = z.output<typeof stringMatchSchema>;
/** A validated Istio-style request match. */
export type HttpMatch = z.output<typeof httpMatchSchema>;
