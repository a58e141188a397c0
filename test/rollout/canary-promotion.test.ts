/**
 * Case a of issue 3: a good new version of catalogdetail, rolled out as a weighted canary
 * through the built-in router, advances 10 → 50 in steps of 10 and is promoted; the old
 * primary and the canary role are stopped and clients never see an error.
 */
import { describe, expect, it } from 'vitest';
import {
  catalogProcess,
  countByVersion,
  failures,
  quickCanary,
  startTestRuntime,
  SUCCESS_RATE_CHECK,
  TrafficLoop,
  waitUntilGone,
  TEST_TIMEOUT_MS,
} from './support.js';

const CANARY = quickCanary({ stepWeight: 10, maxWeight: 50, metrics: [SUCCESS_RATE_CHECK] });

describe('weighted canary of a good version', { timeout: TEST_TIMEOUT_MS }, () => {
  it('advances 10 → 50, promotes v2 to 100 % and stops v1 and the canary', async () => {
    const test = await startTestRuntime(catalogProcess('1'), CANARY);
    await test.waitForPhase('Initialized');
    const v1Pids = await test.pids('primary');
    expect(v1Pids).toHaveLength(1);
    const traffic = TrafficLoop.start(test.runtime.routerUrl);
    await traffic.more(20);

    test.deploy(catalogProcess('2'));
    await test.waitForPhase('Progressing');
    const canaryPids = await test.pids('canary');
    expect(canaryPids).toHaveLength(1);
    await test.waitForPhase('Succeeded');

    const steps = test.events('WeightAdvanced');
    expect(steps.map((e) => e.canaryWeight)).toEqual([10, 20, 30, 40, 50]);
    // Every step after the first was decided on a passing success rate over enough canary requests.
    for (const step of steps.slice(1)) {
      expect(step.evidence).toMatchObject({
        metrics: [{ name: 'request-success-rate', passed: true, value: 100 }],
      });
      expect(
        (step.evidence as { metrics: { sampleSize: number }[] }).metrics[0]!.sampleSize,
      ).toBeGreaterThanOrEqual(10);
    }
    const promoting = test.events('Promoting')[0]!;
    const succeeded = test.events('Succeeded').at(-1)!;
    // While the canary was weighted, some clients were answered by it.
    const firstStep = steps[0]!;
    expect(countByVersion(traffic.between(firstStep.at, promoting.at))['2'] ?? 0).toBeGreaterThan(0);

    expect(test.runtime.controller.view('catalogdetail').status).toMatchObject({
      phase: 'Succeeded',
      canaryWeight: 0,
      failedChecks: 0,
      canaryRevision: null,
    });
    expect(await test.runtime.target.status('catalogdetail', 'canary')).toBeUndefined();
    await waitUntilGone([...v1Pids, ...canaryPids]);

    await traffic.more(50);
    const after = traffic.between(succeeded.at + 1);
    expect(countByVersion(after)).toEqual({ '2': after.length });
    await traffic.stop();
    expect(failures(traffic.samples)).toEqual([]);
  });
});
