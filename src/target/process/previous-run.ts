/**
 * Taking over what an earlier run of the process target left in its state directory: the
 * registry it wrote, the versions it ran and the children that survived it. Which children
 * are provably ours is decided in `process-recovery.ts`; this carries the decision out.
 */
import { mkdir } from 'node:fs/promises';
import { readRegistry, type RegistryDocument } from './child-registry.js';
import { terminateGroup } from './process-group.js';
import { assertOwnerGone, planRecovery } from './process-recovery.js';
import type { ProcessVersion } from './process-version.js';
import type { RecoveryReport, VersionRole } from '../target.js';
import type { ProcessSpec } from './version-spec.js';

/** Where the state directory keeps its parts. */
export interface StateDirPaths {
  readonly stateDir: string;
  readonly registryPath: string;
  readonly logDir: string;
}

/**
 * Creates the log directory (mode 0700) and reads the previous run's registry; undefined
 * when there was none. Throws `AVIARY_TARGET_STATE_DIR_IN_USE` while the controller that
 * wrote it still runs, and `AVIARY_TARGET_STATE_CORRUPT` when the registry is unreadable.
 */
export async function openStateDir(paths: StateDirPaths): Promise<RegistryDocument | undefined> {
  await mkdir(paths.logDir, { recursive: true, mode: 0o700 });
  const previous = await readRegistry(paths.registryPath);
  if (previous !== undefined) await assertOwnerGone(previous, paths.stateDir);
  return previous;
}

/**
 * Stops every process the registry at `paths.registryPath` records that is provably still
 * ours (process-recovery.ts), adopting nothing: for a caller about to delete the state
 * directory (`aviary demo` starts from a clean one), whose processes would otherwise run on
 * with no record left. Throws `AVIARY_TARGET_STATE_DIR_IN_USE` while the run that wrote the
 * registry is alive. Resolves with the process groups stopped.
 */
export async function stopPreviousRun(
  paths: Pick<StateDirPaths, 'stateDir' | 'registryPath'>,
  stopGraceMs: number,
): Promise<number[]> {
  const previous = await readRegistry(paths.registryPath);
  if (previous === undefined) return [];
  await assertOwnerGone(previous, paths.stateDir);
  const plan = await planRecovery(previous);
  const groups = [...plan.adopt.map((record) => record.pgid), ...plan.terminate];
  await Promise.all(groups.map((pgid) => terminateGroup(pgid, stopGraceMs)));
  return groups;
}

/**
 * Re-creates each recorded version through `createVersion` with the children it may adopt,
 * and stops (SIGTERM, then SIGKILL after `stopGraceMs`) ours that have no place any more.
 */
export async function adoptPreviousRun(
  previous: RegistryDocument,
  createVersion: (app: string, role: VersionRole, spec: ProcessSpec) => ProcessVersion,
  stopGraceMs: number,
): Promise<RecoveryReport> {
  const plan = await planRecovery(previous);
  for (const version of previous.versions) {
    const records = plan.adopt.filter((r) => r.app === version.app && r.role === version.role);
    await createVersion(version.app, version.role, version.spec).adopt(records);
  }
  await Promise.all(plan.terminate.map((pid) => terminateGroup(pid, stopGraceMs)));
  const adopted = plan.adopt.map(({ app, role, replica, pid }) => ({ app, role, replica, pid }));
  return { adopted, discarded: plan.discarded };
}
