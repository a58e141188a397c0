/**
 * Rollouts of catalogdetail (process targets) through a real HAProxy driven by the `haproxy`
 * router: a good version promoted step by step, and a version answering 30 % 500s rolled
 * back on the success rate HAProxy's request log gives, and one rolled back by the sequential
 * judge on the same counts. The first two are the scenarios of
 * test/rollout/canary-promotion and canary-rollback, on `router.kind: haproxy`.
 */
import { describe, expect, it } from 'vitest';
import {
  APP,
  catalogProcess,
  countByVersion,
  failures,
  quickCanary,
  startTestRuntime,
  SUCCESS_RATE_CHECK,
  TrafficLoop,
  waitUntilGone,
  TEST_TIMEOUT_MS,
} from '../rollout/support.js';

const HAPROXY = { router: { kind: 'haproxy', port: 0 } } as const;

describe('rollouts through HAProxy', { timeout: TEST_TIMEOUT_MS }, () => {
  it('advances a good version 10 → 50 and promotes it, with no failed request', async () => {
    const test = await startTestRuntime(
      catalogProcess('1'),
      quickCanary({ stepWeight: 10, maxWeight: 50, metrics: [SUCCESS_RATE_CHECK] }),
      HAPROXY,
    );
    await test.waitForPhase('Initialized');
    const v1Pids = await test.pids('primary');
    const traffic = TrafficLoop.start(test.runtime.routerUrl);
    await traffic.more(20);

    test.deploy(catalogProcess('2'));
    await test.waitForPhase('Progressing');
    const canaryPids = await test.pids('canary');
    await test.waitForPhase('Succeeded');

    const steps = test.events('WeightAdvanced');
    expect(steps.map((e) => e.canaryWeight)).toEqual([10, 20, 30, 40, 50]);
    for (const step of steps.slice(1))
      expect(step.evidence).toMatchObject({
        metrics: [{ name: 'request-success-rate', passed: true, value: 100 }],
      });
    const promoting = test.events('Promoting')[0]!;
    expect(countByVersion(traffic.between(steps[0]!.at, promoting.at))['2'] ?? 0).toBeGreaterThan(0);
    await waitUntilGone([...v1Pids, ...canaryPids]);

    const succeeded = test.events('Succeeded').at(-1)!;
    await traffic.more(50);
    const after = traffic.between(succeeded.at + 1);
    expect(countByVersion(after)).toEqual({ '2': after.length });
    await traffic.stop();
    expect(failures(traffic.samples)).toEqual([]);
  });

  it('rolls back a version failing the success rate read from the request log', async () => {
    const test = await startTestRuntime(
      catalogProcess('1'),
      quickCanary({ stepWeight: 10, maxWeight: 50, metrics: [SUCCESS_RATE_CHECK] }),
      HAPROXY,
    );
    await test.waitForPhase('Initialized');
    const traffic = TrafficLoop.start(test.runtime.routerUrl);

    test.deploy(catalogProcess('3', { FAIL_RATE: '0.3' }));
    await test.waitForPhase('Progressing');
    const canaryPids = await test.pids('canary');
    await test.waitForPhase('Failed');

    for (const event of test.events('ChecksFailed'))
      expect(event.message).toMatch(/metric request-success-rate \d+(\.\d+)? < min 99 outside threshold/);
    expect(test.events('Promoting')).toEqual([]);
    const failedAt = test.events('Failed')[0]!.at;
    const bad = failures(traffic.between(0, failedAt));
    expect(bad.length).toBeGreaterThan(0);
    expect(bad.every((s) => s.status === 500 && s.version === '3')).toBe(true);

    await waitUntilGone(canaryPids);
    await traffic.more(50);
    const after = traffic.between(failedAt + 1);
    expect(countByVersion(after)).toEqual({ '1': after.length });
    expect(failures(after)).toEqual([]);
    await traffic.stop();
  });

  it('rolls back a canary answering 500s on the sequential judge, reading the request log', async () => {
    const test = await startTestRuntime(
      catalogProcess('1'),
      {
        progressDeadlineSeconds: 600,
        analysis: { interval: '1m', threshold: 5, stepWeight: 10, maxWeight: 30, judge: {} },
      },
      HAPROXY,
    );
    await test.waitForPhase('Initialized');
    const traffic = TrafficLoop.start(test.runtime.routerUrl);
    test.deploy(catalogProcess('3', { FAIL_RATE: '1' }));
    await test.waitForPhase('Progressing');
    // A 1m interval's first step is a minute away: the operator routes 20 % to the canary now.
    test.runtime.controller.command(APP, { kind: 'set-weights', canaryWeight: 20 }, 'test');
    await test.waitForPhase('Failed');
    const [detected] = test.events('RegressionDetected');
    expect(detected!.message).toMatch(
      /^Rolling back catalogdetail: regression detected \(metric judge: regression/,
    );
    expect(detected!.evidence).toMatchObject({ metrics: [{ name: 'judge', rollback: true }] });
    await traffic.stop();
  });
});
