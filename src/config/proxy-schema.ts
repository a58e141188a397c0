/**
 * The one schema of the router's configuration (listeners, virtual services, versions,
 * routes). YAML and JSON documents are validated here; the TypeScript types of the whole
 * data plane are derived from it, and every default and limit is set here, once.
 *
 * Semantics follow AWS App Mesh routes (what the seeds ran on) and Envoy, whose retry
 * events App Mesh exposes: see docs/adr/0001-data-plane.md.
 */
import { z } from 'zod';
import { durationMs, regexSource, retryOnSchema } from './field-schemas.js';

export { durationMs };

const name = z.string().regex(/^[a-zA-Z0-9]([a-zA-Z0-9._-]{0,62})$/, {
  message:
    'expected a name of letters, digits, ".", "_" or "-" (at most 63, starting with a letter or digit)',
});

const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, {
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

const match = z.strictObject({
  path: pathMatch.optional(),
  methods: z.array(httpMethod).min(1).optional(),
  headers: z.array(valueMatch.safeExtend({ name: headerName })).optional(),
  cookies: z.array(valueMatch).optional(),
  query: z.array(valueMatch).optional(),
});

const weight = z
  .number({ message: 'expected a number >= 0' })
  .min(0)
  .max(1_000_000)
  .refine(Number.isFinite, { message: 'expected a finite number' });

const target = z.strictObject({
  version: name,
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
    if (headerName.safeParse(key).success) continue;
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
  remove: z.array(headerName).optional(),
});

const route = z.strictObject({
  name,
  /** App Mesh priority 0–1000; lower wins. Routes of equal priority keep their list order. */
  priority: z.number().int().min(0).max(1000).optional(),
  match: match.default({}),
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
      version: name,
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

const endpoint = z.string().transform((value, ctx) => {
  const withScheme = /^[a-z]+:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: `expected "host:port" or "http://host:port", got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.port === '' || url.pathname !== '/') {
    ctx.addIssue({
      code: 'custom',
      message: `expected "host:port" or "http(s)://host:port" with an explicit port and no path, got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return url.origin;
});

const outlierDetection = z.strictObject({
  /** Consecutive connect errors or 5xx answers that eject an endpoint (Envoy `consecutive_5xx`). */
  consecutiveFailures: z.number().int().min(1).max(1000).default(5),
  /** First ejection lasts this long; each further ejection of the same endpoint adds as much again. */
  baseEjectionTime: durationMs.default(30_000),
  maxEjectionTime: durationMs.default(300_000),
  /** Never eject more than this share of a version's endpoints (at least one always stays). */
  maxEjectionPercent: z.number().min(0).max(100).default(50),
});

const version = z.strictObject({
  name,
  endpoints: z.array(endpoint).min(1).max(1000),
  balancing: z.enum(['round-robin', 'least-request']).default('round-robin'),
  outlierDetection: outlierDetection.default({
    consecutiveFailures: 5,
    baseEjectionTime: 30_000,
    maxEjectionTime: 300_000,
    maxEjectionPercent: 50,
  }),
  /** Upstream connections kept per endpoint. */
  connectionsPerEndpoint: z.number().int().min(1).max(10_000).default(128),
});

const hostPattern = z.string().regex(/^(\*|(\*\.)?[a-zA-Z0-9.-]+)$/, {
  message: 'expected a host name, "*.example.com" or "*"',
});

const service = z
  .strictObject({
    name,
    /** Host header values this service answers (port ignored); `*` matches any. */
    hosts: z.array(hostPattern).min(1).default(['*']),
    /** Names of the listeners this service is reachable on; default all. */
    listeners: z.array(name).min(1).optional(),
    versions: z.array(version).min(1).max(100),
    routes: z.array(route).min(1),
  })
  .superRefine((svc, ctx) => {
    const versionNames = new Set<string>();
    svc.versions.forEach((v, i) => {
      if (versionNames.has(v.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['versions', i, 'name'],
          message: `duplicate version name "${v.name}"`,
        });
      }
      versionNames.add(v.name);
    });
    const routeNames = new Set<string>();
    svc.routes.forEach((r, i) => {
      if (routeNames.has(r.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['routes', i, 'name'],
          message: `duplicate route name "${r.name}"`,
        });
      }
      routeNames.add(r.name);
      const seen = new Set<string>();
      let total = 0;
      r.targets.forEach((t, j) => {
        total += t.weight;
        if (!versionNames.has(t.version)) {
          ctx.addIssue({
            code: 'custom',
            path: ['routes', i, 'targets', j, 'version'],
            message: `unknown version "${t.version}"; expected one of ${[...versionNames].join(', ')}`,
          });
        }
        if (seen.has(t.version)) {
          ctx.addIssue({
            code: 'custom',
            path: ['routes', i, 'targets', j, 'version'],
            message: `version "${t.version}" is listed twice in this route`,
          });
        }
        seen.add(t.version);
      });
      if (total <= 0 && r.targets.every((t) => t.weight >= 0)) {
        ctx.addIssue({
          code: 'custom',
          path: ['routes', i, 'targets'],
          message: 'expected at least one target with a weight > 0 (all weights are zero)',
        });
      }
      if (r.mirror && !versionNames.has(r.mirror.version)) {
        ctx.addIssue({
          code: 'custom',
          path: ['routes', i, 'mirror', 'version'],
          message: `unknown version "${r.mirror.version}"; expected one of ${[...versionNames].join(', ')}`,
        });
      }
    });
  });

const listener = z.strictObject({
  name: name.default('default'),
  /** Bind address. Default 127.0.0.1: exposing beyond loopback is an explicit choice. */
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65_535),
});

const limits = z.strictObject({
  /** Largest request head accepted; larger gets 431. */
  maxHeaderBytes: z
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024)
    .default(16 * 1024),
  /** A client must send its whole request head within this time (slowloris guard). */
  headersTimeout: durationMs.default(10_000),
  /** A client must send its whole request (head and body) within this time; 0 disables. */
  requestBodyTimeout: durationMs.default(300_000),
  /** Idle keep-alive connections from clients are closed after this time. */
  keepAliveTimeout: durationMs.default(5_000),
  /** Concurrent mirror requests per route before new copies are dropped. */
  maxMirrorsInFlight: z.number().int().min(1).max(100_000).default(1000),
  /** Time to wait for requests in flight on shutdown before closing connections. */
  drainTimeout: durationMs.default(30_000),
});

const defaultLimits = {
  maxHeaderBytes: 16 * 1024,
  headersTimeout: 10_000,
  requestBodyTimeout: 300_000,
  keepAliveTimeout: 5_000,
  maxMirrorsInFlight: 1000,
  drainTimeout: 30_000,
};

/** Schema of a whole router configuration document. */
export const proxyConfigSchema = z
  .strictObject({
    listeners: z.array(listener).min(1),
    limits: limits.default(defaultLimits),
    services: z.array(service).default([]),
  })
  .superRefine((config, ctx) => {
    const listenerNames = new Set<string>();
    const bound = new Set<string>();
    config.listeners.forEach((l, i) => {
      if (listenerNames.has(l.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['listeners', i, 'name'],
          message: `duplicate listener name "${l.name}"`,
        });
      }
      listenerNames.add(l.name);
      const address = `${l.host}:${l.port}`;
      if (l.port !== 0 && bound.has(address)) {
        ctx.addIssue({
          code: 'custom',
          path: ['listeners', i, 'port'],
          message: `${address} is used by two listeners`,
        });
      }
      bound.add(address);
    });
    const serviceNames = new Set<string>();
    config.services.forEach((svc, i) => {
      if (serviceNames.has(svc.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['services', i, 'name'],
          message: `duplicate service name "${svc.name}"`,
        });
      }
      serviceNames.add(svc.name);
      svc.listeners?.forEach((l, j) => {
        if (!listenerNames.has(l)) {
          ctx.addIssue({
            code: 'custom',
            path: ['services', i, 'listeners', j],
            message: `unknown listener "${l}"; expected one of ${[...listenerNames].join(', ')}`,
          });
        }
      });
    });
  });

/** A validated router configuration, with defaults applied and durations in milliseconds. */
export type ProxyConfig = z.output<typeof proxyConfigSchema>;
/** A router configuration as a user writes it. */
export type ProxyConfigInput = z.input<typeof proxyConfigSchema>;
export type ServiceConfig = ProxyConfig['services'][number];
export type RouteConfig = ServiceConfig['routes'][number];
export type VersionConfig = ServiceConfig['versions'][number];
export type MatchConfig = RouteConfig['match'];
export type ValueMatchConfig = NonNullable<MatchConfig['cookies']>[number];
export type RetryConfig = NonNullable<RouteConfig['retries']>;
export type HeaderOpsConfig = NonNullable<RouteConfig['requestHeaders']>;
export type LimitsConfig = ProxyConfig['limits'];
export type ListenerConfig = ProxyConfig['listeners'][number];
