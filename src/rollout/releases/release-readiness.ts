/**
 * Waiting for an edited release to be able to take traffic: new and changed entries must run
 * their new revision with a ready replica, and every entry with a weight must have a ready
 * endpoint, before the router is touched. A version that never gets there fails the edit
 * with an error naming its entry, so the running split is kept.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { entryPath, targetAppOf, type Release } from '../../config/release-schema.js';
import { formatDuration } from '../../config/duration.js';
import { AviaryError } from '../../errors.js';
import type { Target, VersionStatus } from '../../target/target.js';
import { revisionOf, type ProcessSpec } from '../../target/process/version-spec.js';
import type { ReleaseChanges } from './release-plan.js';

/** Time between two looks at the target. */
const POLL_MS = 50;

function missing(
  status: VersionStatus | undefined,
  spec: ProcessSpec,
  fresh: boolean,
  weighted: boolean,
): string | undefined {
  if (status === undefined) return 'it is not running';
  if (fresh && (status.revision !== revisionOf(spec) || status.readyReplicas < 1))
    return `no ready replica of revision ${revisionOf(spec)}`;
  if (weighted && status.endpoints.length === 0) return 'no ready endpoint';
  return undefined;
}

/**
 * Resolves once every entry can take its traffic; rejects with `AVIARY_RELEASE_NOT_READY`
 * naming the first entry that could not within `timeoutMs`, with its last error.
 */
export async function waitForEntries(
  target: Target,
  app: string,
  release: Release,
  specs: ReadonlyMap<string, ProcessSpec>,
  changes: ReleaseChanges,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  const fresh = new Set([...changes.started, ...changes.updated]);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let blocker: { index: number; reason: string; lastError: string | null } | undefined;
    for (const [index, entry] of release.entries.entries()) {
      const status = await target.status(targetAppOf(app, entry.name), 'primary');
      const reason = missing(status, specs.get(entry.name)!, fresh.has(entry.name), entry.weight > 0);
      if (reason !== undefined) {
        blocker = { index, reason, lastError: status?.lastError ?? null };
        break;
      }
    }
    if (blocker === undefined) return;
    if (Date.now() > deadline) {
      const entry = release.entries[blocker.index]!;
      throw new AviaryError(
        'AVIARY_RELEASE_NOT_READY',
        `release of app ${app}: ${entryPath(release.listKey, blocker.index)} (entry "${entry.name}", tag ${entry.tag}) is not ready after ${formatDuration(timeoutMs)}: ${blocker.reason}${blocker.lastError ? ` (last error: ${blocker.lastError})` : ''}; the edit was undone and the running split is kept`,
      );
    }
    await sleep(POLL_MS, undefined, { signal });
  }
}
