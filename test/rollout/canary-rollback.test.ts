/**
 * Cases b and c of issue 3: a version answering 30 % 500s is rolled back once its failed
 * checks reach the threshold, and a version that crashes at start is rolled back at the
 * progress deadline. Either way its processes stop and every client is served by the primary.
 */
import { describe, expect, it } from 'vitest';
import {
  catalogProcess,
  countByVersion,
  crashingProcess,
  failures,
  quickCanary,
  startTestRuntime,
  SUCCESS_RATE_CHECK,
  TrafficLoop,
  waitUntilGone,
  TEST_TIMEOUT_MS,
} from './support.js';

describe('rollback of a bad version', { timeout: TEST_TIMEOUT_MS }, () => {
  it('rolls v3 back when its success rate fails the threshold, and stops it', async () => {
    const test = await startTestRuntime(
      catalogProcess('1'),
      quickCanary({ stepWeight: 10, maxWeight: 50, metrics: [SUCCESS_RATE_CHECK] }),
    );
    await test.waitForPhase('Initialized');
    const primaryPids = await test.pids('primary');
    const traffic = TrafficLoop.start(test.runtime.routerUrl);

    test.deploy(catalogProcess('3', { FAIL_RATE: '0.3' }));
    await test.waitForPhase('Progressing');
    const canaryPids = await test.pids('canary');
    expect(canaryPids).toHaveLength(1);
    await test.waitForPhase('Failed');

    const checksFailed = test.events('ChecksFailed');
    expect(checksFailed).toHaveLength(2);
    for (const event of checksFailed)
      expect(event.message).toMatch(/metric request-success-rate \d+(\.\d+)? < min 99 outside threshold/);
    expect(test.events('ThresholdReached')).toHaveLength(1);
    expect(test.events('Promoting')).toEqual([]);
    expect(test.runtime.controller.view('catalogdetail').status).toMatchObject({
      phase: 'Failed',
      canaryWeight: 0,
      failedChecks: 2,
      canaryRevision: null,
      promoted: { status: 'False' },
    });

    // The canary really answered: some clients got its 500s before the rollback.
    const failedAt = test.events('Failed')[0]!.at;
    const bad = failures(traffic.between(0, failedAt));
    expect(bad.length).toBeGreaterThan(0);
    expect(bad.every((s) => s.status === 500 && s.version === '3')).toBe(true);

    expect(await test.runtime.target.status('catalogdetail', 'canary')).toBeUndefined();
    await waitUntilGone(canaryPids);
    expect(await test.pids('primary')).toEqual(primaryPids);
    await traffic.more(50);
    const after = traffic.between(failedAt + 1);
    expect(countByVersion(after)).toEqual({ '1': after.length });
    expect(failures(after)).toEqual([]);
  });

  it('rolls back a version that crashes at start when the progress deadline passes', async () => {
    const test = await startTestRuntime(
      catalogProcess('1'),
      quickCanary({ stepWeight: 10, maxWeight: 50 }, 2),
    );
    await test.waitForPhase('Initialized');
    const traffic = TrafficLoop.start(test.runtime.routerUrl);

    test.deploy(crashingProcess());
    await test.waitForPhase('Failed');

    const [deadline, ...more] = test.events('DeadlineExceeded');
    expect(more).toEqual([]);
    expect(deadline!.message).toMatch(/progress deadline exceeded \(no progress for 2s: canary 0\/1 ready\)/);
    expect(test.events('NotReady').length).toBeGreaterThan(0);
    expect(test.events('WeightAdvanced')).toEqual([]);
    const crashes = await test.runtime.target.status('catalogdetail', 'canary');
    expect(crashes).toBeUndefined();

    await traffic.more(50);
    await traffic.stop();
    // The crashing canary never had an endpoint, so no client was ever sent to it.
    expect(failures(traffic.samples)).toEqual([]);
    expect(countByVersion(traffic.samples)).toEqual({ '1': traffic.samples.length });
  });
});
