/**
 * The configured `pipelines.sources` as the flows and the webhook receiver take them: secrets
 * and forge tokens read from their files or environment variables once, at start, and each
 * push routed to the run it starts (or why it starts none). See docs/adr/0023-git-pipelines.md.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError, type ConfigIssue } from '../config/config-error.js';
import type { PipelineSource, PipelinesConfig } from '../config/pipelines-schema.js';
import type { BuildSource, ReleaseSource } from './flows/flow-sources.js';
import type { ForgeStatusTarget } from './flows/forge-status.js';
import type { RunInput } from './runs/run-record.js';
import type { PushEvent } from './webhook/push-event.js';
import type { WebhookSource } from './webhook/receiver-options.js';

/** Where relative paths of the configuration and the secrets' variables are read. */
export interface SecretContext {
  /** The directory of `aviary.yaml`: relative `secretFile`, `tokenFile` and `./` URLs start there. */
  readonly baseDir: string;
  readonly environment: Readonly<Record<string, string | undefined>>;
}

/** Every configured source, ready to use. Security: holds secrets; never log it. */
export interface ResolvedSources {
  readonly webhooks: readonly WebhookSource[];
  readonly builds: ReadonlyMap<string, BuildSource>;
  readonly releases: ReadonlyMap<string, ReleaseSource & { readonly pollMs: number }>;
}

/**
 * The value in `file` without the line break an editor or `echo` leaves at its end.
 * Security: the value is only returned, never printed.
 */
export async function readSecretFile(file: string): Promise<string> {
  return (await readFile(file, 'utf8')).replace(/[\r\n]+$/, '');
}

/** A `./` or `../` clone URL is a path next to `aviary.yaml`; anything else is given to git as written. */
function cloneUrl(url: string, baseDir: string): string {
  return url.startsWith('./') || url.startsWith('../') ? resolve(baseDir, url) : url;
}

/** Reads `<key>File` or `<key>Env` of `holder`; an issue at `path` when it cannot. */
async function readValue(
  holder: Partial<Record<string, unknown>>,
  key: 'secret' | 'token',
  path: string,
  context: SecretContext,
  issues: ConfigIssue[],
): Promise<string> {
  const file = holder[`${key}File`];
  const env = holder[`${key}Env`];
  if (typeof file === 'string') {
    const full = isAbsolute(file) ? file : resolve(context.baseDir, file);
    const value = await readSecretFile(full).catch((err: NodeJS.ErrnoException) => {
      issues.push({ path: `${path}.${key}File`, message: `cannot read ${full}: ${err.code ?? err.message}` });
      return undefined;
    });
    if (value === '') issues.push({ path: `${path}.${key}File`, message: `${full} is empty` });
    return value ?? '';
  }
  const value = typeof env === 'string' ? context.environment[env] : undefined;
  if (value === undefined || value === '')
    issues.push({ path: `${path}.${key}Env`, message: `the environment variable ${String(env)} is not set` });
  return value ?? '';
}

async function statusTarget(
  source: PipelineSource,
  path: string,
  context: SecretContext,
  issues: ConfigIssue[],
): Promise<{ status?: ForgeStatusTarget }> {
  if (source.status === undefined) return {};
  const token = await readValue(source.status, 'token', `${path}.status`, context, issues);
  return {
    status: { forge: source.forge, apiBaseUrl: source.status.api, repository: source.repository, token },
  };
}

/**
 * Reads every source's secrets and builds what the flows and the receiver take.
 * @throws ConfigError naming each unreadable file, empty value or unset variable, by path
 *   (`pipelines.sources[N].secretFile`, `…build.secretEnv[M]`, `…status.tokenEnv`)
 */
export async function resolveSources(
  config: PipelinesConfig,
  context: SecretContext,
): Promise<ResolvedSources> {
  const issues: ConfigIssue[] = [];
  const webhooks: WebhookSource[] = [];
  const builds = new Map<string, BuildSource>();
  const releases = new Map<string, ReleaseSource & { pollMs: number }>();
  for (const [index, source] of config.sources.entries()) {
    const path = `pipelines.sources[${index}]`;
    const secret = await readValue(source, 'secret', path, context, issues);
    webhooks.push({ name: source.name, forge: source.forge, repository: source.repository, secret });
    const status = await statusTarget(source, path, context, issues);
    const url = cloneUrl(source.url, context.baseDir);
    if (source.build !== undefined) {
      const build = source.build;
      const secrets: Record<string, string> = {};
      build.secretEnv.forEach((name, i) => {
        const value = context.environment[name];
        if (value === undefined || value === '')
          issues.push({
            path: `${path}.build.secretEnv[${i}]`,
            message: `the environment variable ${name} is not set`,
          });
        else secrets[name] = value;
      });
      builds.set(source.name, {
        name: source.name,
        app: build.app,
        url,
        steps: build.steps,
        outputDir: build.output,
        timeoutMs: build.timeout,
        env: build.env,
        secrets,
        ...(build.onPublish === 'canary' ? { onPublish: 'canary' as const } : {}),
        ...status,
      });
    }
    if (source.release !== undefined) {
      const release = source.release;
      releases.set(source.name, {
        name: source.name,
        app: release.app,
        url,
        branch: release.branch,
        releaseFile: release.path,
        pollMs: release.poll,
        ...status,
      });
    }
  }
  if (issues.length > 0) throw new ConfigError('the pipelines configuration', issues);
  return { webhooks, builds, releases };
}

/**
 * The run a push starts at `sources`, or why it starts none: a tag pushed to a build source
 * is built; the deploy branch pushed to a release source is applied (its tip is fetched when
 * the run starts). A deleted ref, a branch of a build source and another branch of a
 * release source start nothing.
 */
export function runForPush(
  event: PushEvent,
  sourceName: string,
  sources: ResolvedSources,
): RunInput | { readonly ignored: string } {
  if (event.deleted) return { ignored: `${event.ref} was deleted; nothing to build or apply` };
  const build = sources.builds.get(sourceName);
  if (build !== undefined) {
    if (event.kind !== 'tag')
      return { ignored: `source ${sourceName} builds tags; ${event.ref} is a branch` };
    return {
      pipeline: 'build',
      source: sourceName,
      ref: event.ref,
      after: event.after,
      deliveryId: event.deliveryId,
    };
  }
  const release = sources.releases.get(sourceName);
  if (release !== undefined) {
    const branch = release.branch.replace(/^refs\/heads\//, '');
    if (event.kind !== 'branch' || event.name !== branch)
      return { ignored: `source ${sourceName} applies branch ${branch}; ${event.ref} is not it` };
    return {
      pipeline: 'release',
      source: sourceName,
      ref: event.ref,
      after: event.after,
      deliveryId: event.deliveryId,
    };
  }
  return { ignored: `source ${sourceName} has no pipeline` };
}
