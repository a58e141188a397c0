import { describe, expect, it } from 'vitest';
import type { Target, VersionRole, VersionStatus } from '../../target/target.js';
import { newAppRecord, type AppRecord } from './app-record.js';
import { restoreVersions, waitForRestoredVersions } from './controller-resume.js';
import { appSpec, PREVIOUS_REVISION, statusIn } from '../../../test/support/rollout-scenario.js';

/** A target whose roles turn ready after a number of status reads (a seam the controller owns). */
class SlowStartTarget {
  readonly reads = new Map<string, number>();
  constructor(private readonly readyAfter: Readonly<Record<string, number>>) {}
  // eslint-disable-next-line @typescript-eslint/require-await -- the Target interface is async
  async status(app: string, role: VersionRole): Promise<VersionStatus | undefined> {
    const key = `${app}/${role}`;
    const read = (this.reads.get(key) ?? 0) + 1;
    this.reads.set(key, read);
    const ready = read > (this.readyAfter[key] ?? Infinity) ? 1 : 0;
    return { readyReplicas: ready } as VersionStatus;
  }
}

function recordIn(phase: 'Progressing' | 'Succeeded'): AppRecord {
  const spec = appSpec({ name: 'shop' });
  const record = newAppRecord(spec, undefined, () => spec.desired);
  record.status = statusIn(spec, phase);
  return record;
}

/** Waits for one app in `phase` on `target`, giving up after `timeoutMs`. */
const waitFor = (target: SlowStartTarget, phase: 'Progressing' | 'Succeeded', timeoutMs = 60_000) =>
  waitForRestoredVersions(
    [recordIn(phase)],
    target as unknown as Target,
    timeoutMs,
    AbortSignal.timeout(60_000),
  );

describe('waitForRestoredVersions', () => {
  it('waits until every role the saved status runs has a ready replica', async () => {
    const target = new SlowStartTarget({ 'shop/primary': 2, 'shop/canary': 4 });
    await waitFor(target, 'Progressing');
    expect(target.reads.get('shop/primary')).toBe(3);
    expect(target.reads.get('shop/canary')).toBe(5);
  });

  it('does not wait for a canary a settled rollout does not run', async () => {
    const target = new SlowStartTarget({ 'shop/primary': 0 });
    await waitFor(target, 'Succeeded');
    expect([...target.reads.keys()]).toEqual(['shop/primary']);
  });

  it('gives up on a version that never gets ready, so the start goes on', async () => {
    const target = new SlowStartTarget({});
    await waitFor(target, 'Succeeded', 200);
    expect(target.reads.get('shop/primary')).toBeGreaterThan(0);
  });
});

/**
 * Runs restoreVersions on `record` against a target whose `status` answers as given and which
 * records the roles it starts; answers those roles and the messages of the events reported.
 */
async function restore(
  record: AppRecord,
  status: (role: VersionRole) => VersionStatus | undefined,
): Promise<{ started: string[]; events: string[] }> {
  const started: string[] = [];
  const target = {
    status: (_app: string, role: VersionRole) => Promise.resolve(status(role)),
    withReplicas: (s: unknown) => s,
    ensureVersion: (_app: string, role: VersionRole) => {
      started.push(role);
      return Promise.resolve({} as VersionStatus);
    },
  } as unknown as Target;
  const events: string[] = [];
  const report = { onEvent: (e: { message: string }) => events.push(e.message), onError: () => undefined };
  await restoreVersions(record, target, report, 0, AbortSignal.timeout(10_000));
  return { started, events };
}

describe('restoreVersions', () => {
  it('starts again a fresh baseline the saved status runs, on its revision, when no process was left', async () => {
    const spec = appSpec({
      name: 'shop',
      canary: { analysis: { stepWeight: 10, maxWeight: 50, judge: {}, baseline: 'fresh' } },
    });
    const record = newAppRecord(spec, undefined, () => spec.desired);
    record.specs = { [spec.desired.revision]: spec.workload, [PREVIOUS_REVISION]: spec.workload };
    record.status = statusIn(spec, 'Progressing', { canaryWeight: 10, baselineRevision: PREVIOUS_REVISION });
    const { started, events } = await restore(record, () => undefined);
    expect(started).toEqual(['primary', 'canary', 'baseline']);
    expect(events.at(-1)).toBe(
      `Restarting shop baseline with revision ${PREVIOUS_REVISION}: the saved state says it runs, but no process was left`,
    );
  });

  it('puts a role back on its saved revision when a step moved it and was not saved (killed mid-promotion)', async () => {
    const spec = appSpec({ name: 'shop' });
    const record = newAppRecord(spec, undefined, () => spec.desired);
    record.specs = { [spec.desired.revision]: spec.workload, [PREVIOUS_REVISION]: spec.workload };
    // Saved before the promotion: the primary on the previous revision, the canary on the new one.
    record.status = statusIn(spec, 'Progressing', { canaryWeight: 50 });
    expect(record.status.primaryRevision).toBe(PREVIOUS_REVISION);
    const runs: Record<string, string> = { primary: spec.desired.revision, canary: spec.desired.revision };
    const { started, events } = await restore(
      record,
      (role) => ({ revision: runs[role], readyReplicas: 1 }) as VersionStatus,
    );
    expect(started).toEqual(['primary']);
    expect(events).toEqual([
      `Restarting shop primary with revision ${PREVIOUS_REVISION}: it runs revision ${spec.desired.revision}, from a step whose state was not saved before the controller stopped; the step is taken again`,
    ]);
  });
});
