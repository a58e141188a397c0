/**
 * The `process` workload of an app: how to run one version of it as local processes
 * (command, args, cwd, env, replicas, probes). Probe fields accept
 * the Kubernetes names (`periodSeconds`, `timeoutSeconds`, `initialDelaySeconds`) as well as
 * Aviary's durations (`interval`, `timeout`, `initialDelay`), with Kubernetes' defaults:
 * https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/#lifecycle-1
 * The validated output is the process target's spec, so it is handed to the target as is.
 */
import { z } from 'zod';
import { durationMs } from './proxy-schema.js';

/**
 * An HTTP GET probe, with Kubernetes probe semantics
 * (https://kubernetes.io/docs/concepts/configuration/liveness-readiness-startup-probes/):
 * a response status 200–399 is a success; anything else, a refused connection or no answer
 * within `timeoutMs` is a failure.
 */
export interface ProbeSpec {
  /** Request path, e.g. `/ping`. */
  readonly path: string;
  /** Time between the end of one probe and the start of the next. */
  readonly intervalMs: number;
  /** A probe without a complete response in this time fails. */
  readonly timeoutMs: number;
  /** Consecutive successes that turn the state healthy. */
  readonly successThreshold: number;
  /** Consecutive failures that turn the state unhealthy. */
  readonly failureThreshold: number;
  /** Delay after the process starts before the first probe. */
  readonly initialDelayMs: number;
}

/** One version of an app run as local processes (workload kind `process`). */
export interface ProcessSpec {
  /**
   * Workload kind. Absent means `process`: specs saved before workload kinds existed, and
   * the schema's own output, carry none, so their revisions and saved state stay as they were.
   */
  readonly kind?: 'process';
  /** Executable; resolved on the `PATH` the target hands the process. Never run through a shell. */
  readonly command: string;
  /** Arguments, passed as an array (no shell word-splitting or expansion). */
  readonly args: readonly string[];
  /** Working directory; the controller's own when absent. */
  readonly cwd?: string;
  /** Extra environment variables. They are part of the revision, so a changed value is a new version. */
  readonly env: Readonly<Record<string, string>>;
  /** Desired number of replicas (≥ 0). Not part of the revision: scaling is not a new version. */
  readonly replicas: number;
  /** Gates traffic: only ready replicas are endpoints. */
  readonly readinessProbe?: ProbeSpec;
  /** Restarts a replica after `failureThreshold` consecutive failures. */
  readonly livenessProbe?: ProbeSpec;
}

/** Environment variable Aviary sets to the port each process must listen on. */
export const PORT_ENV = 'PORT';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const envValue = z
  .union([z.string(), z.number(), z.boolean()], { message: 'expected a string, number or boolean' })
  .transform(String);

const env = z.record(z.string(), envValue).superRefine((record, ctx) => {
  for (const key of Object.keys(record)) {
    if (key === PORT_ENV) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `${PORT_ENV} is reserved: Aviary sets it to the port each process must listen on`,
      });
    } else if (!ENV_NAME.test(key)) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: 'expected an environment variable name (letters, digits and "_", not starting with a digit)',
      });
    }
  }
});

const seconds = z.number().positive();

/** A duration given either as Aviary writes it (`interval: 2s`) or as Kubernetes does (`periodSeconds: 2`). */
function eitherDuration(
  probe: Record<string, unknown>,
  ctx: z.RefinementCtx,
  name: string,
  kubernetesName: string,
  fallbackMs: number,
): number {
  const ms = probe[name] as number | undefined;
  const secs = probe[kubernetesName] as number | undefined;
  if (ms !== undefined && secs !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: [kubernetesName],
      message: `set ${name} or ${kubernetesName}, not both`,
    });
  }
  return ms ?? (secs === undefined ? fallbackMs : secs * 1000);
}

/**
 * An HTTP probe. Defaults as in Kubernetes: every 10s, 1s timeout, 3 failures to turn
 * unhealthy, 1 success to turn healthy, no initial delay. The output is the target's probe
 * (`path`, `intervalMs`, `timeoutMs`, `initialDelayMs`, thresholds).
 */
export const probeSchema = z
  .strictObject({
    httpGet: z.strictObject({
      path: z.string().startsWith('/', { message: 'expected a path starting with "/"' }),
    }),
    interval: durationMs.optional(),
    periodSeconds: seconds.optional(),
    timeout: durationMs.optional(),
    timeoutSeconds: seconds.optional(),
    initialDelay: durationMs.optional(),
    initialDelaySeconds: z.number().min(0).optional(),
    failureThreshold: z.number().int().min(1).default(3),
    successThreshold: z.number().int().min(1).default(1),
  })
  .transform((probe, ctx): ProbeSpec => ({
    path: probe.httpGet.path,
    intervalMs: eitherDuration(probe, ctx, 'interval', 'periodSeconds', 10_000),
    timeoutMs: eitherDuration(probe, ctx, 'timeout', 'timeoutSeconds', 1_000),
    initialDelayMs: eitherDuration(probe, ctx, 'initialDelay', 'initialDelaySeconds', 0),
    failureThreshold: probe.failureThreshold,
    successThreshold: probe.successThreshold,
  }))
  .superRefine((probe, ctx) => {
    if (probe.intervalMs <= 0)
      ctx.addIssue({ code: 'custom', path: ['interval'], message: 'expected a duration > 0' });
    if (probe.timeoutMs <= 0)
      ctx.addIssue({ code: 'custom', path: ['timeout'], message: 'expected a duration > 0' });
  });

/**
 * How to run one version of an app. The process gets its port in `PORT`; `replicas`
 * (default 1) processes run per role. Security: `command` and `args` are passed to spawn as
 * an argument list, never to a shell.
 */
export const processSchema = z
  .strictObject({
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    cwd: z.string().min(1).optional(),
    env: env.default({}),
    replicas: z.number().int().min(1).max(100).default(1),
    readinessProbe: probeSchema.optional(),
    livenessProbe: probeSchema.optional(),
  })
  .transform(({ cwd, readinessProbe, livenessProbe, ...rest }): ProcessSpec => ({
    ...rest,
    ...(cwd === undefined ? {} : { cwd }),
    ...(readinessProbe === undefined ? {} : { readinessProbe }),
    ...(livenessProbe === undefined ? {} : { livenessProbe }),
  }));
