/**
 * The developer's pipeline as a run executor: a tag push → fetch → check → build → publish.
 * 1. Fetch the tag from the source's configured URL into its git cache; the fetched id must
 *    be the push's `after` (the tag object for an annotated tag), then peel it to the commit.
 * 2. Check tag immutability before building (`ArtifactStore.checkTag`): a tag already
 *    published from another commit or build key is refused.
 * 3. Reuse an artifact of the same commit and build key under another tag (`addTag`).
 * 4. Otherwise export the tree into a fresh work directory, run the configured steps
 *    (`runBuild`, secrets masked, every process marked with the run id), and publish the
 *    output directory only if every step passed. A failed, timed-out or cancelled build
 *    publishes nothing. Commit statuses (`aviary/build`) are reported along the way.
 * See docs/adr/0023-git-pipelines.md.
 */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { runBuild, type BuildResult } from '../build/build-runner.js';
import { assertTreePath } from '../git/git-arguments.js';
import { fetchRef, openCache, peelToCommit } from '../git/git-cache.js';
import { exportTree } from '../git/tree-export.js';
import { refTarget } from '../webhook/push-event.js';
import type { RunContext, RunExecutor, RunOutcome } from '../runs/run-queue.js';
import { BUILD_STATUS_CONTEXT, reportStatus, type StatusPoster } from './commit-status.js';
import { FlowError } from './flow-error.js';
import { buildKeyOf, type BuildSource } from './flow-sources.js';

/** Starts an analysed canary of a newly published tag (the `onPublish: canary` hook). */
export type StartCanary = (app: string, tag: string, artifactDir: string) => Promise<void>;

/** What {@link buildFlow} needs; every side effect is injected. */
export interface BuildFlowOptions {
  /** The configured build source of a run's `source`, or undefined. */
  readonly buildSource: (name: string) => BuildSource | undefined;
  /** Root of the per-source git caches. */
  readonly cacheRoot: string;
  /** Root of the per-run work directories (`<workRoot>/<run id>`, removed after the run). */
  readonly workRoot: string;
  readonly artifacts: ArtifactStore;
  /** Called after a publish when the source says `onPublish: canary`. */
  readonly startCanary?: StartCanary;
  /** Posts commit statuses; default the forge client. */
  readonly postStatus?: StatusPoster;
  /** Link from a status to the run, e.g. the dashboard's run page. */
  readonly runUrl?: (runId: string) => string;
  /** Between SIGTERM and SIGKILL of a step's group; the build runner's default otherwise. */
  readonly killGraceMs?: number;
}

function buildFailure(result: BuildResult): RunOutcome {
  const step = result.failedStep === undefined ? 'the build' : `step ${result.failedStep + 1}`;
  const how =
    result.outcome === 'timed-out'
      ? 'timed out'
      : result.outcome === 'cancelled'
        ? 'was cancelled'
        : result.exitCode !== undefined
          ? `exited with code ${result.exitCode}`
          : result.signal !== undefined
            ? `was killed by ${result.signal}`
            : 'failed to start';
  return { state: result.outcome === 'timed-out' ? 'timed-out' : 'failed', reason: `${step} ${how}` };
}

async function removeWorkDir(dir: string): Promise<void> {
  // A build may leave read-only directories (e.g. a module cache); make them writable first.
  await promisify(execFile)('chmod', ['-R', 'u+w', '--', dir]).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}

/** The build pipeline's executor. */
export function buildFlow(options: BuildFlowOptions): RunExecutor {
  return async (context) => {
    const { run, signal } = context;
    const source = options.buildSource(run.source);
    if (source === undefined)
      throw new FlowError(
        'AVIARY_FLOW_UNKNOWN_SOURCE',
        `source ${run.source}: no build source has this name`,
      );
    const target = refTarget(run.ref);
    if (target?.kind !== 'tag')
      throw new FlowError(
        'AVIARY_FLOW_INVALID_OPTION',
        `ref ${run.ref}: the build pipeline builds tags (refs/tags/…)`,
      );
    // `.` (the schema's default) publishes the whole exported tree.
    const outputDir = source.outputDir === '.' ? '.' : assertTreePath(source.outputDir);
    const cache = await openCache(options.cacheRoot, source.name, { signal });
    const fetched = await fetchRef(cache, source.url, run.ref, { signal });
    if (run.after !== undefined && fetched !== run.after)
      throw new FlowError(
        'AVIARY_FLOW_REF_MISMATCH',
        `source ${source.name}: ${run.ref} is ${fetched} on the remote, but the push said ${run.after}; the tag moved`,
      );
    const commit = await peelToCommit(cache, run.ref, { signal });
    if (commit === undefined)
      throw new FlowError(
        'AVIARY_FLOW_REF_MISMATCH',
        `source ${source.name}: ${run.ref} does not peel to a commit`,
      );
    await context.reportCommit(commit);
    await context.log(`[build] ${run.ref} is ${fetched}, commit ${commit}`);

    const status = (state: 'pending' | 'success' | 'failure', description: string) =>
      reportStatus(
        context,
        source.status,
        commit,
        {
          state,
          context: BUILD_STATUS_CONTEXT,
          description,
          ...(options.runUrl === undefined ? {} : { targetUrl: options.runUrl(run.id) }),
        },
        options.postStatus,
      );
    await status('pending', `building ${target.name}`);
    const outcome = await buildTag(options, context, source, { tag: target.name, commit, outputDir }).catch(
      (error: unknown): RunOutcome => ({
        state: 'failed',
        reason: error instanceof Error ? error.message : String(error),
      }),
    );
    await status(
      outcome.state === 'succeeded' ? 'success' : 'failure',
      outcome.state === 'succeeded'
        ? `published ${target.name}`
        : `${target.name}: ${outcome.reason ?? outcome.state}`,
    );
    return { ...outcome, commit };
  };
}

async function buildTag(
  options: BuildFlowOptions,
  context: RunContext,
  source: BuildSource,
  what: { tag: string; commit: string; outputDir: string },
): Promise<RunOutcome> {
  const request = { app: source.app, tag: what.tag, commit: what.commit, buildKey: buildKeyOf(source) };
  const existing = options.artifacts.checkTag(request);
  if (existing !== undefined) {
    await context.log(`[build] ${what.tag} is already published from ${what.commit}; nothing to build`);
    return {
      state: 'succeeded',
      reason: 'already published',
      artifact: { tag: what.tag, digest: existing.digest },
    };
  }
  const reusable = options.artifacts.findByCommit(source.app, what.commit, request.buildKey);
  if (reusable !== undefined) {
    const published = await options.artifacts.addTag({ ...request, digest: reusable.digest });
    await context.log(`[build] reusing the artifact of tag ${reusable.tag} (same commit and build)`);
    return await afterPublish(options, context, source, what.tag, published.dir, {
      state: 'succeeded',
      reason: `reused the artifact of tag ${reusable.tag}`,
      artifact: { tag: what.tag, digest: reusable.digest },
    });
  }
  const workDir = join(options.workRoot, context.run.id);
  await removeWorkDir(workDir);
  try {
    await exportTree(await openCache(options.cacheRoot, source.name), what.commit, workDir, {
      signal: context.signal,
    });
    // No steps (the schema's default): the exported tree is published as it is.
    if (source.steps.length === 0) await context.log('[build] no build steps; publishing the tree as it is');
    const result =
      source.steps.length === 0
        ? undefined
        : await runBuild({
            workDir,
            steps: source.steps,
            timeoutMs: source.timeoutMs,
            env: { ...source.env, ...source.secrets, ...context.processMarker },
            secrets: Object.values(source.secrets ?? {}),
            logFile: context.logFile,
            signal: context.signal,
            ...(options.killGraceMs === undefined ? {} : { killGraceMs: options.killGraceMs }),
          });
    if (result !== undefined && result.outcome !== 'succeeded') return buildFailure(result);
    const published = await options.artifacts.publish({ ...request, fromDir: join(workDir, what.outputDir) });
    await context.log(`[build] published ${what.tag} as sha256-${published.entry.digest}`);
    return await afterPublish(options, context, source, what.tag, published.dir, {
      state: 'succeeded',
      reason: `published ${what.tag}`,
      artifact: { tag: what.tag, digest: published.entry.digest },
    });
  } finally {
    await removeWorkDir(workDir);
  }
}

async function afterPublish(
  options: BuildFlowOptions,
  context: RunContext,
  source: BuildSource,
  tag: string,
  artifactDir: string,
  outcome: RunOutcome,
): Promise<RunOutcome> {
  if (source.onPublish !== 'canary') return outcome;
  if (options.startCanary === undefined)
    return {
      ...outcome,
      state: 'failed',
      reason: `published ${tag}, but onPublish: canary has no canary starter`,
    };
  try {
    await options.startCanary(source.app, tag, artifactDir);
    await context.log(`[build] started a canary of ${source.app} ${tag}`);
    return outcome;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      ...outcome,
      state: 'failed',
      reason: `published ${tag}, but starting its canary failed: ${message}`,
    };
  }
}
