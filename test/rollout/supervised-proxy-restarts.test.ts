/**
 * Issue 11, 1a: by default (`router: {port: 0}`, nothing about where it runs) `aviary up`
 * runs the built-in proxy as its own supervised process. `aviary up` (a real process) is killed with SIGKILL and restarted five
 * times in the middle of a rollout while clients send steady traffic: the proxy keeps
 * serving the last routes it was given, each new controller adopts it and the replicas, not
 * one request fails, and the rollout succeeds with its weight schedule unbroken.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isRecordedProcessAlive, readInstanceRecord } from '../../src/router/proxy-instance.js';
import {
  failures,
  isGone,
  onCleanup,
  tempDir,
  TOKEN,
  TrafficLoop,
  waitFor,
  waitUntilGone,
  TEST_TIMEOUT_MS,
} from './support.js';
import { persisted, restartYaml, rollout, startController, eventsOnceSucceeded } from './up-process.js';

const RESTARTS = 5;

const aviaryYaml = (stateDir: string, version: string): string =>
  restartYaml(stateDir, version, {
    // The default: no router.process, so aviary up runs the proxy on its own.
    router: '{port: 0}',
    stepWeight: 5,
    progressDeadlineSeconds: 120,
  });

describe('the proxy as its own supervised process', { timeout: TEST_TIMEOUT_MS * 2 }, () => {
  it('serves every request while the controller is killed and restarted five times mid-rollout', async () => {
    const dir = await tempDir();
    const stateDir = join(dir, 'state');
    const file = join(dir, 'aviary.yaml');
    await writeFile(file, aviaryYaml(stateDir, '1'));
    // The proxy outlives every controller by design; the test stops it whatever happens.
    onCleanup(async () => {
      const record = await readInstanceRecord(join(stateDir, 'proxy'));
      if (record === undefined || !(await isRecordedProcessAlive(record))) return;
      process.kill(-record.pid, 'SIGKILL');
      await waitUntilGone([record.pid]);
    });

    let controller = await startController(file, TOKEN);
    const routerUrl = controller.routerUrl;
    const proxy = await readInstanceRecord(join(stateDir, 'proxy'));
    expect(proxy?.pid).not.toBe(controller.child.pid);
    await waitFor('v1 initialised', async () =>
      (await rollout(controller)).status?.phase === 'Initialized' ? true : undefined,
    );
    const traffic = TrafficLoop.start(routerUrl, { maxMs: 240_000 });
    await traffic.more(20);
    await writeFile(file, aviaryYaml(stateDir, '2'));

    const killedAt: number[] = [];
    let lastWeight = 0;
    for (let restart = 1; restart <= RESTARTS; restart++) {
      // Each kill comes after at least one more step was made durable, mid-rollout.
      const weight = await waitFor(
        `a persisted canary weight above ${lastWeight} % (restart ${restart})`,
        async () => {
          const status = (await persisted(stateDir)).status;
          return status?.phase === 'Progressing' &&
            status.canaryWeight > lastWeight &&
            status.canaryWeight < 50
            ? status.canaryWeight
            : undefined;
        },
        controller.output,
      );
      lastWeight = weight;
      killedAt.push(Date.now());
      process.kill(controller.child.pid!, 'SIGKILL');
      await controller.exited;
      // While no controller runs, the proxy keeps serving the routes it was given.
      await traffic.more(20);
      controller = await startController(file, TOKEN);
      expect(controller.routerUrl).toBe(routerUrl);
      const adopted = await rollout(controller);
      expect(adopted.processes.primary.replicas[0]).toMatchObject({ adopted: true });
      expect(adopted.processes.canary.replicas[0]).toMatchObject({ adopted: true });
    }
    // Every controller drove the one proxy started first.
    expect((await readInstanceRecord(join(stateDir, 'proxy')))?.pid).toBe(proxy?.pid);

    const events = await eventsOnceSucceeded(controller);
    const restarts = events.filter((e) => e.reason === 'ControllerRestarted');
    expect(restarts.map((e) => e.message)).toEqual(
      Array.from({ length: RESTARTS }, () => 'controller restarted; adopted 2 replicas of catalogdetail'),
    );
    expect(events.filter((e) => e.at > killedAt[0]!).map((e) => e.reason)).not.toContain('NewRevision');
    // One weight schedule across six controllers: nothing was started again from scratch.
    expect(events.filter((e) => e.reason === 'WeightAdvanced').map((e) => e.canaryWeight)).toEqual([
      5, 10, 15, 20, 25, 30, 35, 40, 45, 50,
    ]);

    await traffic.more(30);
    await traffic.stop();
    expect(failures(traffic.samples)).toEqual([]);
    expect(traffic.samples.length).toBeGreaterThan(100);
    expect(traffic.samples.at(-1)!.version).toBe('2');

    // The dashboard's charts and the control API's /metrics read the proxy in its own process.
    const series = (await (
      await fetch(`${controller.controlUrl}/api/v1/rollouts/catalogdetail/traffic?seconds=60&step=5`)
    ).json()) as { versions: { primary: { requests: number[] } } };
    expect(series.versions.primary.requests.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const metricsText = await (await fetch(`${controller.controlUrl}/metrics`)).text();
    expect(metricsText).toMatch(/^aviary_proxy_\w+\{[^}]*service="catalogdetail"/m);

    // A stop by signal stops the proxy too (after draining), and the replicas.
    const pid = proxy!.pid;
    process.kill(controller.child.pid!, 'SIGTERM');
    await controller.exited;
    expect(controller.child.exitCode).toBe(0);
    await waitUntilGone([pid]);
    expect(isGone(pid)).toBe(true);
  });
});
