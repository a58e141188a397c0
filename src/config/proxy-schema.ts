/**
 * The one schema of the proxy's configuration (listeners, virtual services, versions,
 * routes). YAML and JSON documents are validated here; the TypeScript types of the whole
 * data plane are derived from it, and every default and limit is set here or in the parts
 * it is built from: services and versions (proxy-service-schema.ts), routes
 * (proxy-route-schema.ts) and request matching (proxy-match-schema.ts). This file holds
 * the listeners, the limits and the checks across the whole document.
 *
 * Semantics follow AWS App Mesh routes (the mesh of the canary setups Aviary was modelled on)
 * and Envoy, whose retry events App Mesh exposes: see docs/adr/0001-data-plane.md.
 */
import { z } from 'zod';
import { durationMs } from './field-schemas.js';
import { noteUniqueName, proxyNameSchema } from './proxy-name-schema.js';
import { certificateFilesSchema, serviceSchema } from './proxy-service-schema.js';

export { durationMs };

const listener = z.strictObject({
  name: proxyNameSchema.default('default'),
  /** Bind address. Default 127.0.0.1: exposing beyond loopback is an explicit choice. */
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65_535),
  /**
   * `http1` (the default) or `http2`. In clear, `http2` is h2c with prior knowledge only
   * (gRPC clients speak it; HTTP/1.1 clients need another listener). With `tls`, `http2`
   * offers h2 and http/1.1 by ALPN on the same port.
   */
  protocol: z.enum(['http1', 'http2']).optional(),
  /**
   * TLS termination: the listener's default certificate. Services with their own `tls`
   * answer their hosts with it (SNI). The files are re-read when they change.
   */
  tls: certificateFilesSchema.optional(),
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
    services: z.array(serviceSchema).default([]),
  })
  .superRefine((config, ctx) => {
    const listenerNames = new Set<string>();
    const bound = new Set<string>();
    config.listeners.forEach((l, i) => {
      noteUniqueName(listenerNames, l.name, ['listeners', i, 'name'], 'listener', ctx);
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
      noteUniqueName(serviceNames, svc.name, ['services', i, 'name'], 'service', ctx);
      if (svc.tls && !config.listeners.some((l) => l.tls && (svc.listeners ?? [l.name]).includes(l.name))) {
        ctx.addIssue({
          code: 'custom',
          path: ['services', i, 'tls'],
          message: 'the service has a certificate but none of its listeners has tls',
        });
      }
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
/** A validated service. */
export type ServiceConfig = ProxyConfig['services'][number];
/** A validated route of a service. */
export type RouteConfig = ServiceConfig['routes'][number];
/** A validated version of a service. */
export type VersionConfig = ServiceConfig['versions'][number];
/** A validated `match` block of a route. */
export type MatchConfig = RouteConfig['match'];
/** A validated header, cookie or query matcher. */
export type ValueMatchConfig = NonNullable<MatchConfig['cookies']>[number];
/** A validated `retries` block of a route. */
export type RetryConfig = NonNullable<RouteConfig['retries']>;
/** Validated request or response header changes of a route. */
export type HeaderOpsConfig = NonNullable<RouteConfig['requestHeaders']>;
/** Validated `limits`, defaults applied. */
export type LimitsConfig = ProxyConfig['limits'];
/** Certificate and key files of a TLS listener or service. */
export type CertificateFiles = NonNullable<ListenerConfig['tls']>;
/** A validated listener. */
export type ListenerConfig = ProxyConfig['listeners'][number];
