/**
 * The operator through the last failures of issue 16's chaos table, on the real test control
 * plane, with `aviary operator` in its own processes (docs/adr/0032):
 * - the leader killed with SIGKILL mid-rollout: the standby takes the Lease once it expires
 *   and carries the rollout on from the Canary's status, each weight step taken once, and the
 *   standby wrote nothing (no Event) before it held the Lease;
 * - the watch stale: the operator stopped (SIGSTOP) while the API server compacts etcd past
 *   the resourceVersions it watches from and restarts, then continued: its watches resume from
 *   a compacted resourceVersion, the API server answers 410 Gone, the operator lists again
 *   (`aviary_kube_watch_restarts_total{reason="expired"}`) and the rollout finishes, each
 *   step once.
 * The API server here compacts every 2 s (`--etcd-compaction-interval`; 5 min by default).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneSkipReason } from '../cluster/binaries.js';
import { pollFor } from '../support/poll.js';
import { NS, OperatorFixture } from './operator-fixture.js';
import { OperatorProcess, sampleOf } from './operator-process.js';

const unavailable = await controlPlaneSkipReason();
const LEASE = 'aviary-operator-default';
/** Short enough for a test, in the proportions of Kubernetes' 15 s / 10 s / 2 s. */
const SHORT_LEASE = [
  '--leader-elect-lease-duration=4s',
  '--leader-elect-renew-deadline=3s',
  '--leader-elect-retry-period=1s',
];

interface Lease {
  spec: { holderIdentity?: string; acquireTime?: string; leaseTransitions?: number };
}
interface CanaryEvent {
  reason: string;
  message: string;
  reportingInstance?: string;
  /** `<canary>.<ms, hex>.<reason>`: when the operator made it, to the millisecond. */
  metadata: { name: string };
}

/** When the operator made `event` (its `firstTimestamp` has only whole seconds). */
const madeAt = (event: CanaryEvent): number => parseInt(event.metadata.name.split('.')[1] ?? '', 16);

describe.skipIf(unavailable !== undefined)('the operator through failover and a stale watch', () => {
  const fixture = new OperatorFixture();
  const processes: OperatorProcess[] = [];
  const operator = (name: string, args: readonly string[]): OperatorProcess => {
    const started = new OperatorProcess(fixture.plane.kubeconfig, join(fixture.plane.dir, '..', name), args);
    processes.push(started);
    return started;
  };
  const lease = () => fixture.getJson<Lease>(['lease', LEASE, '-n', NS]);
  const canaryEvents = async (): Promise<CanaryEvent[]> =>
    (
      await fixture.getJson<{ items: CanaryEvent[] }>([
        'events',
        '--field-selector',
        'involvedObject.name=podinfo,involvedObject.kind=Canary',
      ])
    ).items;
  const statusWeightAtLeast = (weight: number) =>
    pollFor(
      `status weight ${weight}`,
      async () => (((await fixture.status()).canaryWeight ?? 0) >= weight ? true : undefined),
      undefined,
      120_000,
    );

  beforeAll(async () => {
    await fixture.start(
      { interval: '10s', threshold: 2, maxWeight: 50, stepWeight: 10, judge: { enabled: false } },
      {},
      undefined,
      { plane: { apiServerArgs: ['--etcd-compaction-interval=2s'] } },
    );
    await fixture.phase('Initialized');
    // From here on only `aviary operator` processes run the Canary.
    await fixture.operator.close();
  }, 180_000);
  afterAll(async () => {
    for (const started of processes) {
      started.child.kill('SIGCONT');
      await started.kill();
    }
    await fixture.stop();
  }, 60_000);

  it('a standby takes over from a leader killed mid-rollout: each step once, never two writing', async () => {
    const a = operator('a', SHORT_LEASE);
    await a.line(/leading as/);
    const b = operator('b', SHORT_LEASE);
    await b.line(/standby as .* held by/);
    const [idA, idB] = [await a.identity(), await b.identity()];
    const before = (await fixture.advances()).length;
    await fixture.run(['set', 'image', 'deployment/podinfo', 'podinfo=example.invalid/podinfo:2']);
    await statusWeightAtLeast(20);
    const held = await lease();
    expect(held.spec.holderIdentity).toBe(idA);
    await a.kill();
    const killedAt = Date.now();
    await b.line(/leading as/);
    await fixture.phase('Succeeded', 180_000);

    expect((await fixture.advances()).slice(before)).toEqual([10, 20, 30, 40, 50]);
    const taken = await lease();
    expect(taken.spec.holderIdentity).toBe(idB);
    expect(taken.spec.leaseTransitions).toBe((held.spec.leaseTransitions ?? 0) + 1);
    const tookAt = Date.parse(taken.spec.acquireTime ?? '');
    // The standby waited out the dead leader's Lease: it took it only after the kill.
    expect(tookAt).toBeGreaterThanOrEqual(killedAt);
    const events = await canaryEvents();
    const byA = events.filter((e) => e.reportingInstance === idA);
    const byB = events.filter((e) => e.reportingInstance === idB);
    const steps = (list: CanaryEvent[]) =>
      list
        .filter((e) => e.reason === 'WeightAdvanced')
        .map((e) => Number(/weight (\d+)/.exec(e.message)?.[1]));
    expect(steps(byA).length).toBeGreaterThanOrEqual(2);
    expect([...steps(byA), ...steps(byB)].sort((x, y) => x - y)).toEqual([10, 20, 30, 40, 50]);
    // Nothing of the standby's before it held the Lease, nothing of the leader's after it died.
    for (const event of byB) expect(madeAt(event)).toBeGreaterThanOrEqual(tookAt - 1);
    for (const event of byA) expect(madeAt(event)).toBeLessThanOrEqual(killedAt);
    expect(byB.map((e) => e.reason)).toContain('ControllerRestarted');
  });

  it('lists again after a 410 Gone on a watch resumed from a compacted resourceVersion, then finishes, each step once', async () => {
    // The leader stops cleanly and gives the Lease up: the next operator takes it at once.
    const b = processes.at(-1)!;
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(143);
    expect((await lease()).spec.holderIdentity ?? '').toBe('');
    // A renew deadline longer than the pause below: this operator is stopped, not lost.
    const c = operator('c', [
      '--leader-elect-lease-duration=300s',
      '--leader-elect-renew-deadline=240s',
      '--leader-elect-retry-period=2s',
    ]);
    await c.line(/leading as/);
    const expired = async () =>
      sampleOf(await c.metrics(), 'aviary_kube_watch_restarts_total', 'resource="canaries",reason="expired"');
    const expiredBefore = await expired();
    const before = (await fixture.advances()).length;
    await fixture.run(['set', 'image', 'deployment/podinfo', 'podinfo=example.invalid/podinfo:3']);
    await statusWeightAtLeast(10);

    c.child.kill('SIGSTOP');
    // Writes that move etcd's revision past every resourceVersion the operator has seen...
    for (let i = 0; i < 5; i++) await fixture.run(['create', 'configmap', `stale-watch-${i}`, '-n', NS]);
    const revision = Number(
      (await fixture.getJson<{ metadata: { resourceVersion: string } }>(['configmaps', '-n', NS])).metadata
        .resourceVersion,
    );
    // ...and the API server's compactor compacting etcd past them.
    let compacted = 0;
    await pollFor(
      `etcd compacted to revision ${revision}`,
      async () => {
        const metrics = await (await fetch(`${fixture.plane.etcdUrl}/metrics`)).text();
        compacted = Number(/^etcd_debugging_mvcc_compact_revision (\S+)$/m.exec(metrics)?.[1] ?? 0);
        return compacted >= revision ? true : undefined;
      },
      () => `compact revision ${compacted}`,
      60_000,
    );
    await fixture.plane.restartApiServer();
    c.child.kill('SIGCONT');

    await pollFor(
      'a 410 Gone on the Canaries watch',
      async () => ((await expired()) > expiredBefore ? true : undefined),
      undefined,
      60_000,
    );
    await fixture.phase('Succeeded', 180_000);
    expect((await fixture.advances()).slice(before)).toEqual([10, 20, 30, 40, 50]);
    expect(c.child.exitCode).toBeNull();
  });
});
