/**
 * Field schemas shared by every configuration input (router config, aviary.yaml, Flagger
 * Canary documents), so a duration, a regex or a retry event list reads and fails the same
 * way everywhere.
 */
import { z } from 'zod';
import { parseDuration } from './duration.js';

/** A duration (`15s`, `500ms`, `1m`) or a number of milliseconds; parsed to milliseconds. */
export const durationMs = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const ms = typeof value === 'number' ? value : parseDuration(value);
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a duration such as "500ms", "15s" or "1m", got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return ms;
});

/** A regular expression source, checked by compiling it. */
export const regexSource = z.string().superRefine((source, ctx) => {
  try {
    new RegExp(source);
  } catch (err) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a valid regular expression: ${(err as Error).message}`,
    });
  }
});

/** A string, number or boolean, read as a string (YAML turns `cmd: 10` into a number). */
export const stringish = z
  .union([z.string(), z.number(), z.boolean()], { message: 'expected a string, number or boolean' })
  .transform(String);

/**
 * Every named retry event accepted in `retries.retryOn`. Names follow AWS App Mesh's
 * `httpRetryEvents`, `tcpRetryEvents` and `grpcRetryEvents` and Envoy's `retry_on`, which App Mesh exposes:
 * https://docs.aws.amazon.com/app-mesh/latest/userguide/routes.html and
 * https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_filters/router_filter#x-envoy-retry-on
 */
export const RETRY_EVENT_NAMES: readonly string[] = [
  'server-error',
  'gateway-error',
  'client-error',
  'stream-error',
  'connection-error',
  'connect-failure',
  'reset',
  'refused-stream',
  'retriable-4xx',
  '5xx',
  'per-try-timeout',
  // App Mesh grpcRetryEvents: the gRPC status of a call, in its trailers or a trailers-only answer.
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
];

/** App Mesh / Envoy retry events as a comma-separated string or a list; status codes (503) and classes (5xx) too. */
export const retryOnSchema = z
  .union([z.string(), z.array(z.union([z.string(), z.number()]))], {
    message: 'expected a comma-separated string or a list of retry events',
  })
  .transform((value) =>
    (typeof value === 'string' ? value.split(',') : value)
      .map((v) => String(v).trim())
      .filter((v) => v !== ''),
  )
  .superRefine((events, ctx) => {
    for (const event of events) {
      if (RETRY_EVENT_NAMES.includes(event) || /^[1-5](\d\d|xx)$/.test(event)) continue;
      ctx.addIssue({
        code: 'custom',
        message: `unknown retry event "${event}"; expected one of ${RETRY_EVENT_NAMES.join(', ')}, a status code such as 503, or a class such as 5xx`,
      });
    }
  });
