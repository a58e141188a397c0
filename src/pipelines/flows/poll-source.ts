/**
 * The poll backstop of the release pipeline: GitHub never redelivers a failed webhook on its
 * own (REFERENCE.md §6), so the deploy branch is also read with `git ls-remote` and a release
 * run is queued when its tip is not the last commit applied. One call is one poll; the caller
 * owns the interval (a timer in the runtime, a direct call in tests).
 */
import { lsRemote, openCache } from '../git/git-cache.js';
import { GitError } from '../git/git-error.js';
import type { RunQueue } from '../runs/run-queue.js';
import type { RunRecord } from '../runs/run-record.js';
import type { RunStore } from '../runs/run-store.js';
import type { AppliedCommits } from './applied-commits.js';
import type { ReleaseSource } from './flow-sources.js';
import { deployRef } from './release-flow.js';

/** What a poll did. */
export type PollResult =
  | { readonly kind: 'queued'; readonly run: RunRecord }
  | { readonly kind: 'up-to-date'; readonly commit: string }
  | { readonly kind: 'already-queued'; readonly runId: string };

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
 * Polls `source`'s deploy branch once. A tip equal to the last applied commit does nothing;
 * so does a release run of the source already queued (it fetches the tip when it starts).
 * Otherwise a release run is queued. Rejects with a GitError when the remote cannot be read or has no such branch
 * (`AVIARY_GIT_REF_NOT_FOUND`).
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
  const waiting = options.store
    .list()
    .find((run) => run.pipeline === 'release' && run.source === source.name && run.state === 'queued');
  if (waiting !== undefined) return { kind: 'already-queued', runId: waiting.id };
  const run = await options.queue.enqueue({
    pipeline: 'release',
    source: source.name,
    ref,
    after: tip.commit,
  });
  return { kind: 'queued', run };
}
