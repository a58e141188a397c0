/**
 * Case h of issue 3: a `rollout` webhook answering 500 is a failed check at every analysis
 * interval (Flagger: a status above 202 is a failure); failedChecks grows one by one and the
 * canary is rolled back when it reaches the threshold.
 */
import { describe, expect, it } from 'vitest';
import type { RolloutView } from '../../src/rollout/controller/controller.js';
import {
  catalogProcess,
  failures,
  quickCanary,
  startReceiver,
  startTestRuntime,
  TrafficLoop,
  waitUntilGone,
  TEST_TIMEOUT_MS,
} from './support.js';

describe('webhook failures', { timeout: TEST_TIMEOUT_MS }, () => {
  it('counts each failing rollout hook as a failed check and rolls back at the threshold', async () => {
    const hook = await startReceiver(500);
    const test = await startTestRuntime(
      catalogProcess('1'),
      quickCanary({
        threshold: 3,
        stepWeight: 20,
        maxWeight: 60,
        webhooks: [{ name: 'load-test', type: 'rollout', url: hook.url, metadata: { cmd: 'hey -z 1m' } }],
      }),
    );
    await test.waitForPhase('Initialized');
    const failedChecks: number[] = [];
    test.runtime.controller.on('status', (view: RolloutView) => {
      const n = view.status?.failedChecks ?? 0;
      if (failedChecks.at(-1) !== n) failedChecks.push(n);
    });
    const traffic = TrafficLoop.start(test.runtime.routerUrl);

    test.deploy(catalogProcess('2'));
    await test.waitForPhase('Progressing');
    const canaryPids = await test.pids('canary');
    await test.waitForPhase('Failed');

    expect(failedChecks).toEqual([0, 1, 2, 3]);
    const checks = test.events('ChecksFailed');
    expect(checks).toHaveLength(3);
    for (const event of checks)
      expect(event.message).toMatch(/rollout check load-test failed: receiver says no$/);
    expect(test.events('ThresholdReached')[0]!.message).toBe(
      'Rolling back catalogdetail failed checks threshold reached 3',
    );
    // The first check tick starts the analysis (pre-rollout hooks); the rollout hook fails from then on.
    expect(test.events('WeightAdvanced').map((e) => e.canaryWeight)).toEqual([20]);
    expect(hook.bodies.length).toBeGreaterThanOrEqual(3);
    expect(hook.bodies[0]).toMatchObject({
      name: 'catalogdetail',
      namespace: 'default',
      phase: 'Progressing',
      checksum: expect.stringMatching(/^[0-9a-f]{12}$/),
      metadata: { cmd: 'hey -z 1m' },
    });

    expect(await test.runtime.target.status('catalogdetail', 'canary')).toBeUndefined();
    await waitUntilGone(canaryPids);
    await traffic.stop();
    expect(failures(traffic.samples)).toEqual([]);
  });
});
