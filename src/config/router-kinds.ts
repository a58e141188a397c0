/**
 * The `router` block of `aviary.yaml`: which router the controller drives and that router's
 * settings. This table is the one list of router kinds; the router registry
 * (src/router/router-registry.ts) is typed by it, so a kind added here fails to compile
 * until its factory exists. Without `kind`, the block is the built-in proxy's listener, as
 * before router kinds existed.
 */
import { z } from 'zod';
import { certificateFilesSchema } from './proxy-service-schema.js';
import { haproxySettingsSchema } from './router-haproxy.js';

/** A listening address. Default host 127.0.0.1: exposing beyond loopback is an explicit choice. */
export function listenAddress(defaultPort: number) {
  return {
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65_535).default(defaultPort),
  };
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * One `aviary proxy` driven through its admin API. Security: the bearer token comes from a
 * file or an environment variable, never from the configuration in clear.
 */
const adminInstanceSchema = z
  .strictObject({
    url: z.url({ protocol: /^https?$/, message: 'expected the http(s) URL of an aviary proxy admin API' }),
    tokenFile: z.string().min(1).optional(),
    tokenEnv: z.string().regex(ENV_NAME, { message: 'expected an environment variable name' }).optional(),
  })
  .superRefine((instance, ctx) => {
    if ((instance.tokenFile === undefined) === (instance.tokenEnv === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'expected one of tokenFile or tokenEnv: where the admin token is read from',
      });
    }
  });

/** Settings of each router kind, by kind. */
export const ROUTER_SCHEMAS = {
  /**
   * The built-in proxy, run by the controller; `host`/`port` is where it takes traffic.
   * `process: separate` runs it as its own supervised process that keeps serving while the
   * controller is down (docs/adr/0014-supervised-proxy-process.md); `in-process` runs it in
   * the controller's process. Unset, `aviary up` and `aviary demo` run it separate (unless
   * given `--in-process-router`) and a program embedding the runtime runs it in process.
   */
  embedded: z.strictObject({
    kind: z.literal('embedded').default('embedded'),
    ...listenAddress(8080),
    process: z.enum(['in-process', 'separate']).optional(),
    /**
     * `http1` (default) or `http2`: h2c with prior knowledge in clear, h2 and HTTP/1.1 by
     * ALPN with `tls` (docs/adr/0026-http2-grpc-tls.md).
     */
    protocol: z.enum(['http1', 'http2']).optional(),
    /** TLS termination on the router's listener; relative paths are read next to aviary.yaml, and re-read when they change. */
    tls: certificateFilesSchema.optional(),
  }),
  /**
   * One or more `aviary proxy` instances elsewhere (behind a load balancer): every change
   * goes to all of them, and one that diverges is brought back in line.
   */
  'aviary-admin': z.strictObject({
    kind: z.literal('aviary-admin'),
    instances: z.array(adminInstanceSchema).min(1),
  }),
  /** A real HAProxy on this machine, run and driven by Aviary (src/config/router-haproxy.ts). */
  haproxy: haproxySettingsSchema.extend(listenAddress(8080)),
} as const;

/** A router kind. */
export type RouterKind = keyof typeof ROUTER_SCHEMAS;

/** Every router kind. */
export const ROUTER_KINDS = Object.keys(ROUTER_SCHEMAS) as [RouterKind, ...RouterKind[]];

/** The validated `router` block. */
export type RouterSettings = z.output<(typeof ROUTER_SCHEMAS)[RouterKind]>;

/** Every kind's schema, as `discriminatedUnion` takes them. */
type RouterSchemaList = [(typeof ROUTER_SCHEMAS)[RouterKind], ...(typeof ROUTER_SCHEMAS)[RouterKind][]];

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Schema of the `router` block; default the embedded proxy on 127.0.0.1:8080. */
export const routerSchema = z
  .preprocess(
    (value) => (isRecord(value) && value.kind === undefined ? { ...value, kind: 'embedded' } : value),
    z.discriminatedUnion('kind', Object.values(ROUTER_SCHEMAS) as RouterSchemaList, {
      error: () => `one of ${ROUTER_KINDS.map((kind) => JSON.stringify(kind)).join(', ')}`,
    }),
  )
  .prefault({});
