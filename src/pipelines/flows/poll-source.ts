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
  if (options.applied.get(source.name) === tip.commit) return { kind: 'up-to-date', commit: tip.commit };
  const runs = options.store.list().filter((run) => run.pipeline === 'release' && run.source === source.name);
  const inHand = runs.find(
    (run) =>
      run.state === 'queued' ||
      (run.state === 'running' && (run.commit === undefined || run.commit === tip.commit)),
  );
  if (inHand !== undefined) return { kind: 'already-queued', runId: inHand.id };
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
