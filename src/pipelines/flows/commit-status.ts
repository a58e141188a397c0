/**
 * Reporting a run's commit status: `pending` when the run knows its commit, `success` or
 * `failure` when it ends. A status that cannot be posted is written to the run's log and
 * never fails the run: the forge is a mirror of the run, not part of it.
 */
import { maskSecrets } from '../build/secret-mask.js';
import type { RunContext } from '../runs/run-queue.js';
import { postCommitStatus, type CommitStatus, type ForgeStatusTarget } from './forge-status.js';

/** Posts one status; {@link postCommitStatus} unless a test injects another. */
export type StatusPoster = (
  target: ForgeStatusTarget,
  sha: string,
  status: CommitStatus,
  options: { signal?: AbortSignal },
) => Promise<void>;

/** The context of the build pipeline's statuses. */
export const BUILD_STATUS_CONTEXT = 'aviary/build';
/** The context of the release pipeline's statuses. */
export const RELEASE_STATUS_CONTEXT = 'aviary/release';

/** Posts `status` for `sha` when `target` is configured; logs the outcome to the run. */
export async function reportStatus(
  context: RunContext,
  target: ForgeStatusTarget | undefined,
  sha: string,
  status: CommitStatus,
  post: StatusPoster = postCommitStatus,
): Promise<void> {
  if (target === undefined) return;
  try {
    await post(target, sha, status, {});
    await context.log(`[status] ${status.context} ${status.state} posted for ${sha.slice(0, 12)}`);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await context.log(
      `[status] ${status.context} ${status.state} not posted: ${maskSecrets(message, [target.token])}`,
    );
  }
}
