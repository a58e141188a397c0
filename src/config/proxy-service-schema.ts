/**
 * A router service: the hosts it answers, its versions (endpoints, load balancing, outlier
 * detection, connection pools) and its routes, with the checks that tie routes to versions.
 * Outlier detection follows Envoy's; see docs/adr/0001-data-plane.md.
 */
import { z } from 'zod';
import { durationMs } from './field-schemas.js';
import { noteUniqueName, proxyNameSchema } from './proxy-name-schema.js';
import { routeSchema } from './proxy-route-schema.js';

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

/** A PEM certificate chain and its private key, as file paths. */
export const certificateFilesSchema = z.strictObject({
  /** PEM certificate chain, leaf first. */
  certFile: z.string().min(1),
  /** PEM private key of the leaf certificate. */
  keyFile: z.string().min(1),
});

const upstreamTls = z.strictObject({
  /** PEM bundle of the certificate authorities trusted for `https://` endpoints; default Node's bundled roots. */
  caFile: z.string().min(1).optional(),
  /** Name checked against the endpoint's certificate (and sent as SNI); default the endpoint's host. */
  serverName: z.string().min(1).optional(),
});

const version = z.strictObject({
  name: proxyNameSchema,
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
  /**
   * `http1` (the default) or `http2` to the endpoints: h2c with prior knowledge for
   * `http://` endpoints (as gRPC servers speak), h2 by ALPN for `https://` ones. gRPC
   * versions need `http2`.
   */
  protocol: z.enum(['http1', 'http2']).optional(),
  /** TLS to `https://` endpoints. */
  tls: upstreamTls.optional(),
});

const hostPattern = z.string().regex(/^(\*|(\*\.)?[a-zA-Z0-9.-]+)$/, {
  message: 'expected a host name, "*.example.com" or "*"',
});

/**
 * One virtual service. Version and route names must be unique; every route target and
 * mirror must name one of the service's versions, and a route needs a weight > 0 somewhere.
 */
export const serviceSchema = z
  .strictObject({
    name: proxyNameSchema,
    /** Host header values this service answers (port ignored); `*` matches any. */
    hosts: z.array(hostPattern).min(1).default(['*']),
    /** Names of the listeners this service is reachable on; default all. */
    listeners: z.array(proxyNameSchema).min(1).optional(),
    /** Certificate served by SNI for the service's hosts on its TLS listeners (not for `*`). */
    tls: certificateFilesSchema.optional(),
    versions: z.array(version).min(1).max(100),
    routes: z.array(routeSchema).min(1),
  })
  .superRefine((svc, ctx) => {
    const versionNames = new Set<string>();
    svc.versions.forEach((v, i) => {
      noteUniqueName(versionNames, v.name, ['versions', i, 'name'], 'version', ctx);
    });
    const routeNames = new Set<string>();
    svc.routes.forEach((r, i) => {
      noteUniqueName(routeNames, r.name, ['routes', i, 'name'], 'route', ctx);
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
