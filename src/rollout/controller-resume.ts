/**
 * Resuming a rollout after a restart: the versions its saved status says run are started
 * again when the target has none left. See docs/adr/0006-controller-runtime.md.
 */
import type { Target, VersionRole } from '../target/target.js';
import type { ExecutorDeps } from './action-executor.js';
import { eventOf, specFor, type AppRecord } from './app-record.js';

/**
 * Starts again the versions the persisted status says run but the target does not have: a
 * graceful stop (or a reboot) stops every process, and `step` only observes roles, it never
 * starts a primary that is simply missing. Adopted processes are left as they are.
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
  ];
  for (const [role, revision] of roles) {
    if (revision === null || (await target.status(app, role))) continue;
    try {
      const spec = { ...specFor(record, revision), replicas: record.spec.process.replicas };
      await target.ensureVersion(app, role, spec, signal);
      const message = `Restarting ${app} ${role} with revision ${revision}: the saved state says it runs, but no process was left`;
      report.onEvent(eventOf(record, app, now, 'VersionRestored', message));
    } catch (err) {
      report.onError(app, `cannot restart ${role} revision ${revision}: ${(err as Error).message}`);
    }
  }
}
