/**
 * The operator's pipeline as a run executor: a deploy-repository push is a hint to look at
 * the configured branch, never an instruction.
 * 1. Fetch the branch tip from the source's configured URL. The same commit as the last one
 *    applied does nothing ("already applied").
 * 2. Read the release file at that commit (`git show`), hand its text to the injected
 *    `applyRelease` (in the product: YAML parse, then `ReleaseManager.apply`, which validates
 *    first and leaves what runs untouched when the file is invalid).
 * 3. A `ConfigError` fails the run with its path-named issues; the `aviary/release` failure
 *    status names the first bad path. Success records the commit as applied, durably.
 * See docs/adr/0023-git-pipelines.md.
 */
import { ConfigError } from '../../config/config-error.js';
import { readReleaseText } from '../../config/release-schema.js';
import { fetchRef, openCache, showFile } from '../git/git-cache.js';
import type { RunExecutor, RunOutcome } from '../runs/run-queue.js';
import type { AppliedCommits } from './applied-commits.js';
import { RELEASE_STATUS_CONTEXT, reportStatus, type StatusPoster } from './commit-status.js';
import { FlowError } from './flow-error.js';
import type { ReleaseSource } from './flow-sources.js';

/** Applies a release file's text to `app`; rejects with a ConfigError for an invalid file. */
export type ApplyRelease = (app: string, documentText: string, by: string) => Promise<unknown>;

/** The part of the release manager (`src/rollout/releases/release-manager.ts`) a release run uses. */
export interface ReleaseApplier {
  apply(app: string, document: unknown, by: string): Promise<unknown>;
}

/**
 * The product's {@link ApplyRelease}: the file's YAML parsed (a syntax error is a ConfigError
 * at `(root)`), then `ReleaseManager.apply`, which validates before it changes anything.
 */
export function applyThroughReleaseManager(manager: ReleaseApplier): ApplyRelease {
  return (app, documentText, by) =>
    manager.apply(app, readReleaseText(documentText, `release file of app ${app}`), by);
}

/** What {@link releaseFlow} needs; every side effect is injected. */
export interface ReleaseFlowOptions {
  /** The configured release source of a run's `source`, or undefined. */
  readonly releaseSource: (name: string) => ReleaseSource | undefined;
  readonly cacheRoot: string;
  readonly applied: AppliedCommits;
  readonly applyRelease: ApplyRelease;
  readonly postStatus?: StatusPoster;
  readonly runUrl?: (runId: string) => string;
}

/** The full ref of a release source's deploy branch. */
export function deployRef(source: Pick<ReleaseSource, 'branch'>): string {
  return source.branch.startsWith('refs/heads/') ? source.branch : `refs/heads/${source.branch}`;
}

/** The issues of a ConfigError as `path: message` lines. */
function issueLines(error: ConfigError): string[] {
  return error.issues.map((issue) => `${issue.path === '' ? '(root)' : issue.path}: ${issue.message}`);
}

/** The release pipeline's executor. */
export function releaseFlow(options: ReleaseFlowOptions): RunExecutor {
  return async (context) => {
    const { run, signal } = context;
    const source = options.releaseSource(run.source);
    if (source === undefined)
      throw new FlowError(
        'AVIARY_FLOW_UNKNOWN_SOURCE',
        `source ${run.source}: no release source has this name`,
      );
    const ref = deployRef(source);
    if (run.ref !== ref) await context.log(`[release] the push named ${run.ref}; reading ${ref}`);
    const cache = await openCache(options.cacheRoot, source.name, { signal });
    const tip = await fetchRef(cache, source.url, ref, { signal });
    await context.reportCommit(tip);
    await context.log(`[release] ${ref} is at ${tip}`);
    if (options.applied.get(source.name) === tip)
      return { state: 'succeeded', reason: 'already applied', commit: tip };

    const status = (state: 'pending' | 'success' | 'failure', description: string) =>
      reportStatus(
        context,
        source.status,
        tip,
        {
          state,
          context: RELEASE_STATUS_CONTEXT,
          description,
          ...(options.runUrl === undefined ? {} : { targetUrl: options.runUrl(run.id) }),
        },
        options.postStatus,
      );
    await status('pending', `applying ${source.releaseFile}`);
    const outcome = await applyAt(options, source, tip, run.id).catch((error: unknown): RunOutcome =>
      error instanceof ConfigError
        ? { state: 'failed', reason: `${source.releaseFile} is invalid`, errors: issueLines(error) }
        : { state: 'failed', reason: error instanceof Error ? error.message : String(error) },
    );
    for (const line of outcome.errors ?? []) await context.log(`[release] ${line}`);
    const firstError = outcome.errors?.[0];
    await status(
      outcome.state === 'succeeded' ? 'success' : 'failure',
      outcome.state === 'succeeded'
        ? `applied ${source.releaseFile}`
        : firstError !== undefined
          ? `invalid: ${firstError}`
          : (outcome.reason ?? 'failed'),
    );
    return { ...outcome, commit: tip };
  };
}

async function applyAt(
  options: ReleaseFlowOptions,
  source: ReleaseSource,
  commit: string,
  runId: string,
): Promise<RunOutcome> {
  const cache = await openCache(options.cacheRoot, source.name);
  const file = await showFile(cache, commit, source.releaseFile);
  if (file === undefined)
    throw new FlowError(
      'AVIARY_FLOW_RELEASE_FILE_MISSING',
      `source ${source.name}: ${source.releaseFile} is not in commit ${commit}`,
    );
  await options.applyRelease(
    source.app,
    file.toString('utf8'),
    `git ${source.name}@${commit.slice(0, 12)} (${runId})`,
  );
  await options.applied.set(source.name, commit);
  return { state: 'succeeded', reason: `applied ${source.releaseFile} at ${commit.slice(0, 12)}` };
}
