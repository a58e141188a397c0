/**
 * The optional `pipelines` block of `aviary.yaml`: the seeds' two git pipelines in the
 * embedded mode (docs/adr/0023-git-pipelines.md). A source is one git repository, with
 * either a `build` (the developer's: a tag push is built and published as an artifact) or a
 * `release` (the operator's: a push of a branch applies the release file it holds).
 *
 * ```yaml
 * pipelines:
 *   webhooks: {host: 127.0.0.1, port: 8082}   # the receiver; off when absent
 *   # also maxInFlight: 64 (503 past it) and rateLimit: {perSecond: 10, burst: 100} per address (429)
 *   sources:
 *     - name: catalogdetail
 *       forge: github
 *       repository: acme/catalogdetail         # the payload must name it
 *       url: /srv/git/catalogdetail.git        # fetched from here, never from the payload
 *       secretFile: /etc/aviary/hook-secret
 *       build: {app: catalogdetail, steps: [[npm, ci], [npm, run, build]], output: dist, timeout: 10m}
 *     - name: deploy
 *       forge: github
 *       repository: acme/deploy
 *       url: /srv/git/deploy.git
 *       secretEnv: DEPLOY_HOOK_SECRET
 *       release: {app: catalogdetail, branch: main, path: release.yaml, poll: 1m}
 * ```
 *
 * Security: secrets and forge tokens come from a file or an environment variable, never from
 * the configuration in clear; build steps are argument arrays, never run through a shell.
 */
import { z } from 'zod';
import { durationMs } from './field-schemas.js';
import { listenAddress } from './router-kinds.js';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const envName = z.string().regex(ENV_NAME, { message: 'expected an environment variable name' });

/**
 * The receiver's port when `pipelines.webhooks.port` names none: next to the router's 8080
 * and the control API's 8081, and clear of Prometheus's 9090, which analysis often runs beside.
 */
export const DEFAULT_WEBHOOK_PORT = 8082;

/**
 * Deliveries the receiver handles at once (`pipelines.webhooks.maxInFlight`); one remote
 * address gets half. Each holds at most `maxBodyBytes` (1 MiB), so 64 bound the bodies
 * in memory to 64 MiB. See docs/adr/0029-webhook-admission.md.
 */
export const DEFAULT_WEBHOOK_MAX_IN_FLIGHT = 64;

/**
 * Each remote address's token bucket (`pipelines.webhooks.rateLimit`): a `git push --tags`
 * of 100 tags at once, then 10 deliveries a second. A forge does not redeliver a refused
 * delivery by itself, so the default is generous to it and still makes a flood cheap.
 */
export const DEFAULT_WEBHOOK_RATE_LIMIT = { perSecond: 10, burst: 100 } as const;

/** The forges whose webhooks the receiver authenticates. */
export const FORGES = ['github', 'gitea', 'gitlab'] as const;

/** A value read from a file or an environment variable: exactly one of the two. */
function fromFileOrEnv<K extends string>(key: K, what: string) {
  const file = `${key}File` as const;
  const env = `${key}Env` as const;
  return {
    fields: {
      [file]: z.string().min(1).optional(),
      [env]: envName.optional(),
      // Named, so that the value in clear gets this message rather than "unrecognized key".
      [key]: z
        .never({
          error: `a ${what} is never written in the configuration: give ${file} (a file holding it) or ${env} (an environment variable)`,
        })
        .optional(),
    } as Record<`${K}File`, z.ZodOptional<z.ZodString>> &
      Record<`${K}Env`, z.ZodOptional<z.ZodString>> &
      Record<K, z.ZodOptional<z.ZodNever>>,
    check(value: Record<string, unknown>, ctx: z.RefinementCtx): void {
      const given = [value[file], value[env]].filter((v) => v !== undefined).length;
      if (given !== 1) {
        ctx.addIssue({ code: 'custom', path: [file], message: `expected exactly one of ${file} and ${env}` });
      }
    },
  };
}

const secret = fromFileOrEnv('secret', 'webhook secret');
const token = fromFileOrEnv('token', 'forge token');

const argv = z.array(z.string().min(1)).min(1, { message: 'expected a command and its arguments' });

/** A relative path inside the repository: no `..`, not absolute. */
const repoPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), {
    message: 'expected a path inside the repository (relative, without "..")',
  });

const buildSchema = z.strictObject({
  /** The app whose release entries may name the published tags. */
  app: z.string().regex(NAME, { message: 'expected an app name' }),
  /** Build steps, each an argument array run in the exported tree; none publishes the tree as it is. */
  steps: z.array(argv).default([]),
  /** The directory published, relative to the tree. Default the whole tree. */
  output: repoPath.default('.'),
  /** Time limit of the whole build; its process groups are killed past it. Default 10m. */
  timeout: durationMs.refine((ms) => ms > 0, { message: 'expected a duration > 0' }).default(600_000),
  /** Variables given to the steps (the environment is otherwise only PATH and a temporary HOME). */
  env: z.record(envName, z.string()).default({}),
  /** Variables passed from Aviary's environment to the steps, their values masked in the log. */
  secretEnv: z.array(envName).default([]),
  /** What a publish does: only publish (the seeds' split of the personas), or start an analysed canary. */
  onPublish: z.enum(['publish', 'canary']).default('publish'),
});

const releaseSchema = z.strictObject({
  app: z.string().regex(NAME, { message: 'expected an app name' }),
  branch: z.string().min(1).default('main'),
  /** The release file in the repository. */
  path: repoPath.default('release.yaml'),
  /** The backstop for missed deliveries: the branch tip is read this often; 0 turns it off. Default 1m. */
  poll: durationMs.default(60_000),
});

const statusSchema = z
  .strictObject({
    /** The forge's API, e.g. https://api.github.com, https://gitea.example/api/v1, https://gitlab.example/api/v4. */
    api: z.url({ protocol: /^https?$/, message: 'expected the http(s) URL of the forge API' }),
    ...token.fields,
  })
  .superRefine((value, ctx) => token.check(value, ctx));

const sourceSchema = z
  .strictObject({
    name: z.string().regex(NAME, { message: 'expected a lowercase name of letters, digits and "-"' }),
    forge: z.enum(FORGES),
    /** `owner/name` (GitLab: the project path): a delivery naming another repository is refused. */
    repository: z.string().regex(/^[\w.-]+(\/[\w.-]+)+$/, { message: 'expected owner/name' }),
    /** Where the repository is fetched from: a path or URL. Never taken from a payload. */
    url: z.string().min(1),
    ...secret.fields,
    build: buildSchema.optional(),
    release: releaseSchema.optional(),
    status: statusSchema.optional(),
  })
  .superRefine((source, ctx) => {
    secret.check(source, ctx);
    if ((source.build === undefined) === (source.release === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['build'],
        message:
          'expected exactly one of build (tag pushes are built) and release (branch pushes are applied)',
      });
    }
  });

/** The `pipelines` block. */
export const pipelinesSchema = z
  .strictObject({
    /** The webhook receiver's own listener (the one port meant to face outside); off when absent. */
    webhooks: z
      .strictObject({
        ...listenAddress(DEFAULT_WEBHOOK_PORT),
        maxBodyBytes: z
          .number()
          .int()
          .min(1024)
          .default(1024 * 1024),
        /** Deliveries in flight, from every address together (one address: half); 503 past it. */
        maxInFlight: z.number().int().min(1).max(10_000).default(DEFAULT_WEBHOOK_MAX_IN_FLIGHT),
        /** Per remote address (IPv6: per /64); 429 past it. The maxima are high enough to turn it off. */
        rateLimit: z
          .strictObject({
            perSecond: z.number().positive().max(100_000),
            burst: z.number().int().min(1).max(1_000_000),
          })
          .default({ ...DEFAULT_WEBHOOK_RATE_LIMIT }),
      })
      .optional(),
    /** Runs at once across every source (each source runs its own in order). Default 1. */
    concurrency: z.number().int().min(1).max(16).default(1),
    sources: z.array(sourceSchema).default([]),
  })
  .superRefine((pipelines, ctx) => {
    const seen = new Set<string>();
    pipelines.sources.forEach((source, index) => {
      if (seen.has(source.name))
        ctx.addIssue({
          code: 'custom',
          path: ['sources', index, 'name'],
          message: `duplicate source ${source.name}`,
        });
      seen.add(source.name);
    });
  });

/** Validated `pipelines`, defaults applied. */
export type PipelinesConfig = z.output<typeof pipelinesSchema>;
/** One validated source. */
export type PipelineSource = PipelinesConfig['sources'][number];
