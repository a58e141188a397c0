/**
 * Resuming a rollout after a restart: the versions its saved status says run are started
 * again when the target has none left. See docs/adr/0006-controller-runtime.md.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RecoveryReport, Target, VersionRole } from '../../target/target.js';
import { syncRoutes, type ExecutorDeps, type RolloutEventRecord } from './action-executor.js';
import { eventOf, specFor, type AppRecord } from './app-record.js';

/**
 * Starts again the versions the persisted status says run but the target does not have: a
 * graceful stop (or a reboot) stops every process, and `step` only observes roles, it never
 * starts a primary that is simply missing. An adopted process on the saved revision is left
 * as it is; one on another revision is put back on the saved one. That happens when the
 * controller was killed after a step's actions and before its save (the promotion had moved
 * the primary to the canary's revision): the saved status is from before the step, whose
 * readiness check would otherwise wait for ever for a primary that no longer runs its
 * revision, and the step is taken again from there, as after a failed action.
 */
export async function restoreVersions(
  record: AppRecord,
  target: Target,
  report: Pick<ExecutorDeps, 'onEvent' | 'onError'>,
  now: number,
  signal: AbortSignal,
): Promise<void> {
  const status = record.status;
  if (!status || status.phase === 'Terminating') return;
  const app = record.spec.name;
  const roles: [VersionRole, string | null][] = [
    ['primary', status.primaryRevision],
    ['canary', status.canaryRevision],
    ['baseline', status.baselineRevision ?? null],
  ];
  for (const [role, revision] of roles) {
    if (revision === null) continue;
    const running = await target.status(app, role);
    if (running?.revision === revision) continue;
    try {
      const spec = target.withReplicas(specFor(record, revision), record.rollout.desired.replicas);
      await target.ensureVersion(app, role, spec, signal);
      const why =
        running === undefined
          ? 'the saved state says it runs, but no process was left'
          : `it runs revision ${running.revision}, from a step whose state was not saved before the controller stopped; the step is taken again`;
      report.onEvent(
        eventOf(
          record,
          app,
          now,
          'VersionRestored',
          `Restarting ${app} ${role} with revision ${revision}: ${why}`,
        ),
      );
    } catch (err) {
      report.onError(app, `cannot restart ${role} revision ${revision}: ${(err as Error).message}`);
    }
  }
}

/**
 * Waits until every version the saved records say runs has a ready replica, or `timeoutMs`
 * has passed, or `signal` aborts. Adopted processes come back "starting" until their first
 * readiness probe passes; routes restored before that have no endpoint, and the router
 * would answer 404 where the killed controller's router served. A version that never gets
 * ready (it died meanwhile) only delays the start by `timeoutMs`: its first tick handles it.
 */
export async function waitForRestoredVersions(
  records: Iterable<AppRecord>,
  target: Target,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  let pending: [string, VersionRole][] = [];
  for (const record of records) {
    const status = record.status;
    if (!status || status.phase === 'Terminating') continue;
    pending.push([record.spec.name, 'primary']);
    if (status.canaryRevision !== null) pending.push([record.spec.name, 'canary']);
    if ((status.baselineRevision ?? null) !== null) pending.push([record.spec.name, 'baseline']);
  }
  const deadline = Date.now() + timeoutMs;
  while (pending.length > 0 && Date.now() < deadline && !signal.aborted) {
    const ready = await Promise.all(
      pending.map(async ([app, role]) => ((await target.status(app, role))?.readyReplicas ?? 0) > 0),
    );
    pending = pending.filter((_, i) => !ready[i]);
    if (pending.length > 0) await sleep(50, undefined, { signal }).catch(() => undefined);
  }
}

/**
 * The event that says a controller took an app over from an earlier one, with how many of
 * its replicas were adopted; undefined for an app no controller ran before (no saved status).
 */
export function restartedEvent(
  record: AppRecord,
  recovered: RecoveryReport,
  now: number,
): RolloutEventRecord | undefined {
  if (!record.status) return undefined;
  const app = record.spec.name;
  const adopted = recovered.adopted.filter((replica) => replica.app === app).length;
  return eventOf(
    record,
    app,
    now,
    'ControllerRestarted',
    `controller restarted; adopted ${adopted} replicas of ${app}`,
  );
}

/** What {@link resumeRecords} needs from the controller. */
export interface ResumeDeps {
  readonly target: Target;
  readonly deps: ExecutorDeps;
  readonly now: () => number;
  readonly restoreWaitMs: number;
  readonly signal: AbortSignal;
  readonly recordEvent: (event: RolloutEventRecord) => void;
}

/**
 * For records loaded from saved state: records the restart, starts again what their status
 * says runs, waits (bounded) for it to be ready, and restores their routes.
 */
export async function resumeRecords(
  records: readonly AppRecord[],
  recovered: RecoveryReport,
  resume: ResumeDeps,
): Promise<void> {
  for (const record of records) {
    const restarted = restartedEvent(record, recovered, resume.now());
    if (restarted) resume.recordEvent(restarted);
    if (record.status) await restoreVersions(record, resume.target, resume.deps, resume.now(), resume.signal);
  }
  await waitForRestoredVersions(records, resume.target, resume.restoreWaitMs, resume.signal);
  for (const record of records) {
    if (record.status)
      await syncRoutes(resume.deps, record.spec, record.routing, resume.signal).catch(() => undefined);
  }
}
