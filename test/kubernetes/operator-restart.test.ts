/**
 * The operator through failures, on the real test control plane (issue 13, cases g and h):
 * the API server restarted mid-rollout (every watch broken, every call refused for a while),
 * then the operator process itself killed with SIGKILL mid-analysis and started again. Each
 * time the rollout resumes from the Canary's status at the weight it had, steps on with no
 * step taken twice or skipped, and succeeds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlPlaneSkipReason } from '../cluster/binaries.js';
import { pollFor } from '../support/poll.js';
import { OperatorFixture } from './operator-fixture.js';

const unavailable = await controlPlaneSkipReason();

describe.skipIf(unavailable !== undefined)('the operator through failures', () => {
  const fixture = new OperatorFixture();
  let child: ChildProcess | undefined;

  /** `aviary operator` as a user runs it, in its own process. */
  const operatorProcess = (): ChildProcess =>
    spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'operator',
        `--kubeconfig=${fixture.plane.kubeconfig}`,
        '--namespace=default',
        `--state-dir=${join(fixture.plane.dir, '..', 'operator-process')}`,
        '--min-interval=1s',
        // Its control API on a free port: tests run side by side.
        '--api-port=0',
        // A restarted operator is a new candidate: it takes the killed one's Lease after a
        // lease duration, short here (the default is 60 s; operator-failover.test.ts).
        '--leader-elect-lease-duration=4s',
        '--leader-elect-renew-deadline=3s',
        '--leader-elect-retry-period=1s',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  const weightAtLeast = (weight: number) =>
    pollFor(
      `canary weight ${weight}`,
      async () => (((await fixture.weights())['podinfo-canary'] ?? 0) >= weight ? true : undefined),
      undefined,
      120_000,
    );

  beforeAll(
    () =>
      fixture.start({
        interval: '10s',
        threshold: 2,
        maxWeight: 50,
        stepWeight: 10,
        judge: { enabled: false },
      }),
    180_000,
  );
  afterAll(async () => {
    child?.kill('SIGKILL');
    await fixture.stop();
  }, 60_000);

  it('carries on after the API server restarts mid-rollout, re-listing what it watches', async () => {
    await fixture.phase('Initialized');
    await fixture.run(['set', 'image', 'deployment/podinfo', 'podinfo=example.invalid/podinfo:2']);
    await weightAtLeast(20);
    await fixture.plane.restartApiServer();
    await fixture.phase('Succeeded', 180_000);
    expect(await fixture.advances()).toEqual([10, 20, 30, 40, 50]);
    expect(await fixture.weights()).toMatchObject({ 'podinfo-primary': 100, 'podinfo-canary': 0 });
  });

  it('resumes at the same weight after kill -9 of the operator, with no step taken twice', async () => {
    await fixture.operator.close();
    child = operatorProcess();
    let atKill = 0;
    let resumed = 0;
    const before = (await fixture.advances()).length;
    await fixture.run(['set', 'image', 'deployment/podinfo', 'podinfo=example.invalid/podinfo:3']);
    // Killed once the Canary's status holds weight 20: what a restarted operator resumes from.
    await pollFor(
      'status weight 20',
      async () => (((await fixture.status()).canaryWeight ?? 0) >= 20 ? true : undefined),
      undefined,
      120_000,
    );
    child.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));
    atKill = (await fixture.status()).canaryWeight ?? -1;
    child = operatorProcess();
    // The restarted operator holds the weight it found, then steps on from it.
    await weightAtLeast(atKill + 10);
    resumed = (await fixture.weights())['podinfo-canary'] ?? -1;
    await fixture.phase('Succeeded', 180_000);
    expect(atKill).toBeGreaterThanOrEqual(20);
    expect(resumed).toBe(atKill + 10);
    expect((await fixture.advances()).slice(before)).toEqual([10, 20, 30, 40, 50]);
    const reasons = await fixture.eventReasons();
    expect(reasons, reasons.join(' ')).toContain('ControllerRestarted');
    const primary = await fixture.getJson<{
      spec: { template: { spec: { containers: { image: string }[] } } };
    }>(['deployment', 'podinfo-primary']);
    expect(primary.spec.template.spec.containers[0]!.image).toBe('example.invalid/podinfo:3');
  });
});
