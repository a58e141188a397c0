/**
 * Restarts of the embedded runtime on the same state directory after a graceful stop, which
 * stops every process (unlike `kill -9`, where the processes live on and are adopted): the
 * versions the persisted status names are started again, an analysis goes on where it was,
 * and a one-shot rollback gate that was used stays used.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PersistedRollout } from '../../src/rollout/controller/app-record.js';
import { StateJournal } from '../../src/rollout/state/state-journal.js';
import type { Runtime } from '../../src/runtime.js';
import {
  APP,
  catalogApp,
  catalogProcess,
  countByVersion,
  type CanaryInput,
  failures,
  quickCanary,
  waitUntilGone,
  startClosedAfterTest,
  tempDir,
  testConfig,
  TOKEN,
  TrafficLoop,
  TEST_TIMEOUT_MS,
  waitFor,
  watchSettledPhase,
} from './support.js';

interface Started extends Runtime {
  /** Phase at the end of the last completed tick. */
  readonly phase: () => string | undefined;
}

async function start(stateDir: string, version: string, canary: CanaryInput): Promise<Started> {
  const runtime = await startClosedAfterTest(
    testConfig(stateDir, [catalogApp(catalogProcess(version), canary)]),
  );
  return Object.assign(runtime, { phase: watchSettledPhase(runtime) });
}

const CANARY = quickCanary({
  stepWeight: 10,
  maxWeight: 50,
  webhooks: [{ name: 'stop', type: 'rollback', url: 'aviary:gate' }],
});

/** A first runtime on `stateDir` that initialised v1, then took v2 as a canary to `weight` % or more. */
async function firstRunWithCanaryAt(stateDir: string, weight: number): Promise<Started> {
  const first = await start(stateDir, '1', CANARY);
  await waitFor('v1 initialised', () => (first.phase() === 'Initialized' ? true : undefined));
  first.update(testConfig(stateDir, [catalogApp(catalogProcess('2'), CANARY)]));
  await waitFor(`the canary at ${weight} %`, () =>
    (first.controller.view(APP).status?.canaryWeight ?? 0) >= weight ? true : undefined,
  );
  return first;
}

describe('runtime restarted after a graceful stop', { timeout: TEST_TIMEOUT_MS }, () => {
  it('starts the primary again and serves the app', async () => {
    const stateDir = await tempDir();
    const first = await start(stateDir, '1', CANARY);
    await waitFor('v1 initialised', () => (first.phase() === 'Initialized' ? true : undefined));
    const [pid] = (await first.target.status(APP, 'primary'))!.replicas.map((r) => r.pid);
    await first.close();
    // Exited by now; Node reaps its child (the zombie goes) an event-loop turn later.
    await waitUntilGone([pid!]);

    const second = await start(stateDir, '1', CANARY);
    await waitFor('the primary running again', async () => {
      const status = await second.target.status(APP, 'primary');
      return status?.readyReplicas === 1 ? true : undefined;
    });
    const traffic = TrafficLoop.start(second.routerUrl);
    await waitFor('an answer through the router', () =>
      traffic.samples.some((s) => s.status === 200) ? true : undefined,
    );
    await traffic.more(20);
    await traffic.stop();
    expect(countByVersion(traffic.samples.filter((s) => s.status === 200))).toEqual({
      '1': traffic.samples.filter((s) => s.status === 200).length,
    });
    expect(second.phase()).toBe('Initialized');
    expect(second.controller.events(APP).filter((e) => e.reason === 'VersionRestored')).toMatchObject([
      { message: expect.stringMatching(/^Restarting catalogdetail primary with revision [0-9a-f]{12}/) },
    ]);
  });

  it('goes on with an analysis stopped halfway, restarting both versions', async () => {
    const stateDir = await tempDir();
    const first = await firstRunWithCanaryAt(stateDir, 20);
    await first.close();
    const saved = await new StateJournal<PersistedRollout, unknown>(join(stateDir, 'rollouts')).load(APP);
    expect(saved?.state.status?.phase).toBe('Progressing');

    const second = await start(stateDir, '2', CANARY);
    const traffic = TrafficLoop.start(second.routerUrl);
    await waitFor('the rollout to succeed', () => (second.phase() === 'Succeeded' ? true : undefined));
    // One weight schedule across both runs (the history is persisted): nothing started again.
    const weights = second.controller
      .events(APP)
      .filter((e) => e.reason === 'WeightAdvanced')
      .map((e) => e.canaryWeight);
    expect(weights).toEqual([10, 20, 30, 40, 50]);
    expect(second.controller.events(APP).filter((e) => e.reason === 'NewRevision')).toHaveLength(1);
    const restored = second.controller.events(APP).filter((e) => e.reason === 'VersionRestored');
    expect(restored.map((e) => e.message.split(' ')[2])).toEqual(['primary', 'canary']);
    await traffic.stop();
    // Until a version is ready again the router has nothing to route to; from the first answer on, no failure.
    const firstAnswer = traffic.samples.findIndex((s) => s.status === 200);
    expect(firstAnswer).toBeGreaterThanOrEqual(0);
    expect(failures(traffic.samples.slice(firstAnswer))).toEqual([]);
  });

  it('keeps a consumed rollback gate closed across a restart', async () => {
    const stateDir = await tempDir();
    const first = await firstRunWithCanaryAt(stateDir, 10);
    const opened = await fetch(`${first.controlUrl}/api/v1/rollouts/${APP}/gates/rollback/open`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(opened.status).toBe(200);
    await waitFor('the requested rollback', () => (first.phase() === 'Failed' ? true : undefined));
    expect(first.controller.events(APP).map((e) => e.reason)).toContain('RollbackRequested');
    await first.close();
    const gates = JSON.parse(await readFile(join(stateDir, 'gates.json'), 'utf8'));
    expect(gates.gates).toMatchObject([{ gate: 'rollback', open: false }]);

    // The next release is analysed, not rolled back by a gate that was already used.
    const second = await start(stateDir, '3', CANARY);
    await waitFor('v3 at 20 %', () => {
      const status = second.controller.view(APP).status;
      return status?.phase === 'Progressing' && status.canaryWeight >= 20 ? true : undefined;
    });
    expect(second.controller.events(APP).filter((e) => e.reason === 'RollbackRequested')).toHaveLength(1);
  });
});
