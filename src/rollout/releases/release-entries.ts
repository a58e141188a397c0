/**
 * The target side of a release's entries: each entry runs as target app `<app>-<entry>` in
 * role `primary`. An edit starts its new and changed entries before the router is touched;
 * an edit that fails is undone by stopping what it started and putting changed entries back
 * on their running spec; a removed entry's processes are stopped once it has left routing.
 */
import type { AppSpec } from '../../config/app-schema.js';
import { AviaryError } from '../../errors.js';
import { targetAppOf, type Release, type ReleaseSettings } from '../../config/release-schema.js';
import type { Target } from '../../target/target.js';
import type { ProcessSpec } from '../../target/process/version-spec.js';
import type { ReleaseChanges } from './release-plan.js';
import { releaseVersionSpec } from './release-spec.js';

/**
 * The version spec of each entry of `release`, by entry name, built from the app's `process`
 * block. A release file tags versions of a command line, so it needs a `process` workload.
 * `artifacts` holds each entry's artifact directory when the app runs releases from
 * artifacts (`release-artifacts.ts`); each such entry runs from its directory.
 */
export function entrySpecs(
  template: AppSpec,
  release: Release,
  settings: ReleaseSettings,
  artifacts?: ReadonlyMap<string, string>,
): Map<string, ProcessSpec> {
  const workload = template.workload;
  if (workload.kind !== undefined && workload.kind !== 'process') {
    throw new AviaryError(
      'AVIARY_RELEASE_CONFLICT',
      `app ${template.name}: a release file needs a process workload to run tagged versions, got ${workload.kind}`,
    );
  }
  return new Map(
    release.entries.map((entry) => [
      entry.name,
      releaseVersionSpec(workload, template.name, entry, settings, artifacts?.get(entry.name)),
    ]),
  );
}

/** Starts the started and updated entries of `changes` at their spec in `specs`, one after another. */
export async function startEntries(
  target: Target,
  app: string,
  specs: ReadonlyMap<string, ProcessSpec>,
  changes: ReleaseChanges,
  signal: AbortSignal,
): Promise<void> {
  for (const name of [...changes.started, ...changes.updated])
    await target.ensureVersion(targetAppOf(app, name), 'primary', specs.get(name)!, signal);
}

/**
 * Undoes {@link startEntries} after a failed edit: stops the entries it started and puts the
 * updated ones back on their spec in `running`. Takes no abort signal.
 */
export async function revertEntries(
  target: Target,
  app: string,
  running: ReadonlyMap<string, ProcessSpec>,
  changes: ReleaseChanges,
): Promise<void> {
  await Promise.all(changes.started.map((name) => target.stop(targetAppOf(app, name), 'primary')));
  for (const name of changes.updated)
    await target.ensureVersion(targetAppOf(app, name), 'primary', running.get(name)!);
}

/** Stops the processes of the entries `names` of `app`, all at once. */
export async function stopEntries(
  target: Target,
  app: string,
  names: readonly string[],
  signal: AbortSignal,
): Promise<void> {
  await Promise.all(names.map((name) => target.stop(targetAppOf(app, name), 'primary', signal)));
}
