/**
 * Sorting what a crashed controller left behind. Each recorded child is adopted only when it
 * is alive and provably ours: its environment carries our `AVIARY_INSTANCE` id and its
 * revision and replica, and its start time matches the record, so a recycled pid is never
 * mistaken for a replica (and never signalled). Ours-but-unwanted processes are stopped;
 * everything else is only dropped from the registry.
 */
import type { ChildRecord, RegistryDocument } from './child-registry.js';
import {
  findMarkedGroupLeaders,
  isPidAlive,
  processStartTicks,
  readProcessEnvironment,
} from './process-group.js';
import { INSTANCE_MARKER } from './replica-environment.js';
import { TargetError } from '../target-error.js';
import type { RecoveryReport } from '../target.js';

/** The outcome of sorting: who to adopt, who to stop, and what to report. */
export interface RecoveryPlan {
  /** Live, verified children whose version is still recorded. */
  readonly adopt: readonly ChildRecord[];
  /** Process-group leaders that are ours but have no place any more; to be terminated. */
  readonly terminate: readonly number[];
  readonly discarded: RecoveryReport['discarded'][number][];
}

/** True when `record.pid` is the process the record describes. */
export async function isOurChild(record: ChildRecord, instance: string): Promise<boolean> {
  const env = await readProcessEnvironment(record.pid);
  if (env === undefined) return false;
  const marked =
    env.get(INSTANCE_MARKER) === instance &&
    env.get('AVIARY_REVISION') === record.revision &&
    env.get('AVIARY_REPLICA') === String(record.replica);
  if (!marked) return false;
  const ticks = await processStartTicks(record.pid);
  return record.startTicks === null || ticks === null || ticks === record.startTicks;
}

/** Sorts the children of a previous run's registry. */
export async function planRecovery(document: RegistryDocument): Promise<RecoveryPlan> {
  const adopt: ChildRecord[] = [];
  const terminate: number[] = [];
  const discarded: RecoveryReport['discarded'][number][] = [];
  const hasVersion = (record: ChildRecord): boolean =>
    document.versions.some((v) => v.app === record.app && v.role === record.role);
  for (const record of document.children) {
    if (!(await isPidAlive(record.pid))) {
      discarded.push({ pid: record.pid, reason: 'exited while no controller was running' });
    } else if (!(await isOurChild(record, document.instance))) {
      discarded.push({ pid: record.pid, reason: 'pid now belongs to another process; left alone' });
    } else if (!hasVersion(record)) {
      terminate.push(record.pid);
      discarded.push({
        pid: record.pid,
        reason: `no recorded version for app ${record.app}, role ${record.role}; stopped`,
      });
    } else {
      adopt.push(record);
    }
  }
  // A child spawned just before the crash may be missing from the registry; its marker still names us.
  const known = new Set(document.children.map((record) => record.pid));
  for (const pid of await findMarkedGroupLeaders(INSTANCE_MARKER, document.instance)) {
    if (known.has(pid)) continue;
    terminate.push(pid);
    discarded.push({ pid, reason: 'carries our instance marker but was never recorded; stopped' });
  }
  return { adopt, terminate, discarded };
}

/**
 * Refuses to recover while the controller that wrote the registry still runs: two
 * supervisors of one set of processes would fight over restarts and ports.
 */
export async function assertOwnerGone(document: RegistryDocument, stateDir: string): Promise<void> {
  const { pid, startTicks } = document.owner;
  if (pid === process.pid || !(await isPidAlive(pid))) return;
  if (startTicks === null || (await processStartTicks(pid)) === startTicks)
    throw stateDirInUse(stateDir, pid);
}

/** Error for a state directory another live instance supervises. */
export function stateDirInUse(stateDir: string, pid: number): TargetError {
  return new TargetError(
    'AVIARY_TARGET_STATE_DIR_IN_USE',
    `state directory ${stateDir} is in use by process ${pid}; stop that controller or use another state directory`,
  );
}
