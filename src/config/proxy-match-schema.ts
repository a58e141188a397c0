/**
 * Request matching of a router route: path, methods, headers, cookies and query parameters,
 * with App Mesh route-match semantics (see docs/adr/0001-data-plane.md).
 */
import { z } from 'zod';
import { regexSource } from './field-schemas.js';

/** An HTTP header name (RFC 9110 token characters). */
export const headerNameSchema = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, {
  message: 'expected an HTTP header name (RFC 9110 token characters)',
});

/** String matcher used for headers, cookies and query parameters; exactly one kind must be set. */
const valueMatch = z
  .strictObject({
    name: z.string().min(1),
    exact: z.string().optional(),
    prefix: z.string().optional(),
    suffix: z.string().optional(),
    regex: regexSource.optional(),
    present: z.boolean().optional(),
    range: z.strictObject({ start: z.number(), end: z.number() }).optional(),
    invert: z.boolean().default(false),
  })
  .superRefine((m, ctx) => {
    const kinds = (['exact', 'prefix', 'suffix', 'regex', 'present', 'range'] as const).filter(
      (k) => m[k] !== undefined,
    );
    if (kinds.length > 1) {
      ctx.addIssue({
        code: 'custom',
        message: `expected one of exact, prefix, suffix, regex, present or range, got ${kinds.join(' and ')}`,
      });
    }
    if (m.range && m.range.end <= m.range.start) {
      ctx.addIssue({
        code: 'custom',
        path: ['range', 'end'],
        message: 'expected end > start (range is [start, end))',
      });
    }
  });

const pathMatch = z
  .strictObject({
    prefix: z.string().startsWith('/', { message: 'expected a path starting with "/"' }).optional(),
    exact: z.string().startsWith('/', { message: 'expected a path starting with "/"' }).optional(),
    regex: regexSource.optional(),
  })
  .superRefine((p, ctx) => {
    const kinds = [p.prefix, p.exact, p.regex].filter((v) => v !== undefined).length;
    if (kinds !== 1)
      ctx.addIssue({ code: 'custom', message: 'expected exactly one of prefix, exact or regex' });
  });

const httpMethod = z
  .string()
  .regex(/^[A-Z]+$/, { message: 'expected an upper-case HTTP method such as "GET"' });

/** The `match` block of a route: every condition given must hold; an empty block matches all. */
export const matchSchema = z.strictObject({
  path: pathMatch.optional(),
  methods: z.array(httpMethod).min(1).optional(),
  headers: z.array(valueMatch.safeExtend({ name: headerNameSchema })).optional(),
  cookies: z.array(valueMatch).optional(),
  query: z.array(valueMatch).optional(),
});
