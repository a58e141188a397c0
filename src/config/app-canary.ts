/**
 * An app's `canary` block: Flagger's `Canary.spec` without the Kubernetes parts
 * (progressDeadlineSeconds, skipAnalysis, suspend, service, analysis). A Flagger document
 * loads into the same type (see flagger-canary.ts), so both inputs share one schema.
 */
import { z } from 'zod';
import { analysisSchema } from './app-analysis.js';
import { headersSchema, httpMatchSchema, rewriteSchema } from './app-match.js';
import { durationMs, retryOnSchema } from './field-schemas.js';

const port = z.number().int().min(1).max(65_535);

/**
 * Request timeout of an app's routes when `service.timeout` is not set: 15 s, the default of
 * AWS App Mesh routes and of Envoy's route `timeout`, the mesh whose retry events Aviary
 * follows (https://docs.aws.amazon.com/app-mesh/latest/userguide/routes.html). Without it a
 * request reaching a hung replica waits for as long as the replica hangs: readiness takes
 * the replica out of routing, but only for new requests. `timeout: 0` turns it off (long
 * streams). See docs/adr/0033-replica-faults.md.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

/**
 * How the router serves the app during and after a rollout. `port` and `targetPort` keep
 * Flagger's names so a Canary's service block reads the same, but they are informational:
 * Aviary hands every process its port in `PORT` and serves all apps on the router listener.
 */
export const serviceSchema = z.strictObject({
  port: port.optional(),
  targetPort: port.optional(),
  /**
   * Flagger's `appProtocol`: what the app's versions speak. `http` (the default) is
   * HTTP/1.1; `http2` and `grpc` make the built-in router speak HTTP/2 to them (h2c in
   * clear), as gRPC servers need. Clients reach a gRPC app on an HTTP/2 listener.
   */
  appProtocol: z.enum(['http', 'http2', 'grpc']).optional(),
  /**
   * Whole exchange, request start to end of response. Unset: {@link DEFAULT_REQUEST_TIMEOUT_MS}
   * on Aviary's own routers; 0: none.
   */
  timeout: durationMs.optional(),
  retries: z
    .strictObject({
      /** Retries after the first try (App Mesh `maxRetries`). */
      attempts: z.number().int().min(0).max(10),
      perTryTimeout: durationMs.optional(),
      retryOn: retryOnSchema.default(['gateway-error', 'connect-failure']),
    })
    .optional(),
  match: z.array(httpMatchSchema).default([]),
  rewrite: rewriteSchema.optional(),
  headers: headersSchema.optional(),
});

/**
 * The canary block. Defaults: progressDeadlineSeconds 600, skipAnalysis false, suspend false.
 * A weighted canary (no `iterations`) needs `stepWeight` or `stepWeights` unless the
 * analysis is skipped.
 */
export const canarySchema = z
  .strictObject({
    progressDeadlineSeconds: z.number().int().min(1).default(600),
    skipAnalysis: z.boolean().default(false),
    suspend: z.boolean().default(false),
    service: serviceSchema.prefault({}),
    analysis: analysisSchema.prefault({}),
  })
  .superRefine((canary, ctx) => {
    const a = canary.analysis;
    if (canary.skipAnalysis || a.iterations !== undefined) return;
    if (a.stepWeight === undefined && a.stepWeights.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['analysis', 'stepWeight'],
        message:
          'expected stepWeight or stepWeights (weighted canary), or iterations (A/B or blue/green), or skipAnalysis: true',
      });
    }
  });

/** A validated canary block. */
export type CanarySpec = z.output<typeof canarySchema>;
/** A canary block as a user writes it. */
export type CanarySpecInput = z.input<typeof canarySchema>;
/** A validated service block. */
export type ServiceSpec = z.output<typeof serviceSchema>;
