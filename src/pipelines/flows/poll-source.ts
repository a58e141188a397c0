/**
 * The poll backstop of the release pipeline: GitHub never redelivers a failed webhook on its
 * own (REFERENCE.md §6), so the deploy branch is also read with `git ls-remote` and a release
 * run is queued when its tip is not the last commit applied, and no run has it in hand or
 * has already tried it. It is a backstop for missed deliveries, not a retry loop: a tip whose
 * run failed (an invalid release file fails the same way every time) waits for the next push
 * or `aviary pipelines rerun`. One call is one poll; the caller owns the interval (a timer in
 * the runtime, a direct call in tests).
 */
import { lsRemote, openCache } from '../git/git-cache.js';
import { GitError } from '../git/git-error.js';
import type { RunQueue } from '../runs/run-queue.js';
import { isTerminal, type RunRecord } from '../runs/run-record.js';
import type { RunStore } from '../runs/run-store.js';
import type { AppliedCommits } from './applied-commits.js';
import type { ReleaseSource } from './flow-sources.js';
import { deployRef } from './release-flow.js';

/** What a poll did. */
export type PollResult =
  | { readonly kind: 'queued'; readonly run: RunRecord }
  | { readonly kind: 'up-to-date'; readonly commit: string }
  | { readonly kind: 'already-queued'; readonly runId: string }
  | { readonly kind: 'already-tried'; readonly runId: string; readonly commit: string };

/** What {@link pollSource} needs. */
export interface PollSourceOptions {
  readonly source: ReleaseSource;
  readonly cacheRoot: string;
  readonly applied: AppliedCommits;
  readonly queue: RunQueue;
  readonly store: RunStore;
  readonly signal?: AbortSignal;
}

/**
 * Polls `source`'s deploy branch once. Nothing is queued when the tip is the last applied
 * commit (`up-to-date`); when a release run of the source is queued, or running on the tip
 * or on a tip it has not read yet (`already-queued`: it fetches the tip when it starts); or
 * when the newest run of the source that read a commit ended on the tip without success
 * (`already-tried`). Otherwise a release run is queued. Rejects with a GitError when the
 * remote cannot be read or has no such branch (`AVIARY_GIT_REF_NOT_FOUND`).
 */
function releaseRunsOf(store: RunStore, source: string): RunRecord[] {
  return store.list().filter((run) => run.pipeline === 'release' && run.source === source);
}

/**
 * Whether `commit` of the source's deploy branch needs no new run: it is the one last
 * applied, or a release run already has it in hand (a queued run fetches the tip when it
 * starts; a running one is applying it). The poll and a webhook delivery ask the same
 * question, so whichever sees a push second does not queue a run that would only find its
 * commit applied.
 */
export function coveringReleaseRun(
  options: Pick<PollSourceOptions, 'source' | 'applied' | 'store'>,
  commit: string,
): Extract<PollResult, { kind: 'up-to-date' | 'already-queued' }> | undefined {
  if (options.applied.get(options.source.name) === commit) return { kind: 'up-to-date', commit };
  const inHand = releaseRunsOf(options.store, options.source.name).find(
    (run) =>
      run.state === 'queued' ||
      (run.state === 'running' && (run.commit === undefined || run.commit === commit)),
  );
  return inHand === undefined ? undefined : { kind: 'already-queued', runId: inHand.id };
}

export async function pollSource(options: PollSourceOptions): Promise<PollResult> {
  const { source } = options;
  const signal = options.signal === undefined ? {} : { signal: options.signal };
  const cache = await openCache(options.cacheRoot, source.name, signal);
  const ref = deployRef(source);
  const tip = await lsRemote(cache, source.url, ref, signal);
  if (tip === undefined)
    throw new GitError('AVIARY_GIT_REF_NOT_FOUND', `source ${source.name}: the remote has no ${ref}`, {
      source: source.name,
      ref,
    });
  const covered = coveringReleaseRun(options, tip.commit);
  if (covered !== undefined) return covered;
  const runs = releaseRunsOf(options.store, source.name);
  const lastTried = runs.findLast((run) => run.commit !== undefined && isTerminal(run.state));
  if (lastTried?.commit === tip.commit && lastTried.state !== 'succeeded')
    return { kind: 'already-tried', runId: lastTried.id, commit: tip.commit };
  const run = await options.queue.enqueue({
    pipeline: 'release',
    source: source.name,
    ref,
    after: tip.commit,
  });
  return { kind: 'queued', run };
}
