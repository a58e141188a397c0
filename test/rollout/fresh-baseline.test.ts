/**
 * Issue 12, fresh baseline (docs/adr/0018-fresh-baseline.md): a canary whose first requests
 * are slow (a cold start) is compared by the judge with a fresh copy of the primary, which is
 * as cold, and promoted; the same canary compared with the warm primary is rolled back by the
 * judge. Real runtime, real processes, the router's own counters; asserted on events and
 * phases, never on timings.
 */
import { describe, expect, it } from 'vitest';
import {
  APP,
  catalogProcess,
  describeRollout,
  startTestRuntime,
  TEST_TIMEOUT_MS,
  TrafficLoop,
  waitFor,
  waitUntilGone,
  type CanaryInput,
  type TestRuntime,
} from './support.js';

/** Each process answers its first 50 requests 150 ms late, then at once. */
const COLD = { COLD_REQUESTS: '50', COLD_LATENCY_MS: '150' };

/**
 * A judged canary stepping 25 → 50 every second. maxHarm is wide so that promotion waits for
 * no more than the judge's minimum evidence: these rollouts are about what the judge compares.
 */
function judgedCanary(baseline: 'primary' | 'fresh'): CanaryInput {
  return {
    progressDeadlineSeconds: 120,
    analysis: {
      interval: '1s',
      threshold: 5,
      stepWeight: 25,
      maxWeight: 50,
      baseline,
      judge: { maxHarm: { errorRate: { absolute: 0.5 }, latency: { relative: 100, absoluteMs: 10_000 } } },
    },
  };
}

/** Reasons of the events recorded since the rollout of the new revision began. */
function reasonsSinceNewRevision(test: TestRuntime): string[] {
  const reasons = test.events().map((e) => e.reason);
  return reasons.slice(reasons.lastIndexOf('NewRevision'));
}

/** A warm v1 primary (it has served more than its cold requests), then v2 deployed, as cold. */
async function coldCanaryOverWarmPrimary(baseline: 'primary' | 'fresh'): Promise<TestRuntime> {
  const test = await startTestRuntime(catalogProcess('1', COLD), judgedCanary(baseline));
  await test.waitForPhase('Initialized');
  const traffic = TrafficLoop.start(test.runtime.routerUrl);
  await traffic.more(100);
  test.deploy(catalogProcess('2', COLD));
  return test;
}

describe('fresh baseline', { timeout: TEST_TIMEOUT_MS }, () => {
  it('promotes a cold-starting canary compared with a fresh baseline, and stops the baseline', async () => {
    const test = await coldCanaryOverWarmPrimary('fresh');
    const baselinePids = await waitFor(
      'the fresh baseline running',
      async () => {
        const pids = await test.pids('baseline');
        return pids.length > 0 ? pids : undefined;
      },
      () => describeRollout(test),
    );
    const primaryRevision = test.runtime.controller.view(APP).status!.primaryRevision;
    expect(test.runtime.controller.view(APP).status!.baselineRevision).toBe(primaryRevision);
    await test.waitForPhase('Succeeded');

    const reasons = reasonsSinceNewRevision(test);
    expect(reasons).not.toContain('RegressionDetected');
    expect(
      reasons.filter((r) => ['BaselineStarted', 'BaselineStopped', 'Promoting', 'Succeeded'].includes(r)),
    ).toEqual(['BaselineStarted', 'BaselineStopped', 'Promoting', 'Succeeded']);
    expect(test.events('WeightAdvanced').map((e) => e.canaryWeight)).toEqual([25, 50]);
    // Each step was decided by the judge on the baseline's counts, not the primary's.
    const decided = test.events('WeightAdvanced').at(-1)!;
    expect(decided.evidence).toMatchObject({ metrics: [{ name: 'judge', passed: true }] });

    expect(test.runtime.controller.view(APP).status).toMatchObject({
      phase: 'Succeeded',
      baselineRevision: null,
      canaryRevision: null,
    });
    expect(await test.runtime.target.status(APP, 'baseline')).toBeUndefined();
    await waitUntilGone(baselinePids);
  });

  it('rolls the same canary back when the judge compares it with the warm primary (the default)', async () => {
    const test = await coldCanaryOverWarmPrimary('primary');
    await test.waitForPhase('Failed');

    const reasons = reasonsSinceNewRevision(test);
    expect(reasons).toContain('RegressionDetected');
    expect(reasons).not.toContain('BaselineStarted');
    const [detected] = test.events('RegressionDetected');
    expect(detected!.evidence).toMatchObject({ metrics: [{ name: 'judge', rollback: true }] });
    expect(await test.runtime.target.status(APP, 'baseline')).toBeUndefined();
  });
});
