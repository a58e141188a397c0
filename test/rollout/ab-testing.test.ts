/**
 * Case d of issue 3: A/B testing (`analysis.match` + `iterations`). During the analysis only
 * requests carrying the matching header reach the canary; everyone else stays on the
 * primary until the promotion.
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
  TEST_TIMEOUT_MS,
} from './support.js';

describe('A/B testing', { timeout: TEST_TIMEOUT_MS }, () => {
  it('sends only header-matched requests to the canary during the iterations, then promotes', async () => {
    const test = await startTestRuntime(
      catalogProcess('1'),
      quickCanary({
        iterations: 4,
        match: [{ headers: { 'x-canary': { exact: 'insider' } } }],
        metrics: [SUCCESS_RATE_CHECK],
      }),
    );
    await test.waitForPhase('Initialized');
    const traffic = TrafficLoop.start(test.runtime.routerUrl, {
      clients: [{ tag: 'insider', headers: { 'x-canary': 'insider' } }, { tag: 'plain' }],
    });

    test.deploy(catalogProcess('2'));
    await test.waitForPhase('Succeeded');

    const iterations = test.events('IterationAdvanced');
    expect(iterations.map((e) => e.message)).toEqual(
      [1, 2, 3, 4].map((i) => `Advance catalogdetail canary iteration ${i}/4`),
    );
    // The A/B route is set just before the first iteration is recorded, and the primary is
    // replaced only in a tick after the last one.
    const abStart = iterations[0]!.at;
    const lastIteration = iterations[3]!.at;
    const newRevision = test.events('NewRevision')[0]!.at;

    const plainBefore = traffic.between(0, lastIteration, 'plain');
    expect(plainBefore.length).toBeGreaterThan(20);
    expect(countByVersion(plainBefore)).toEqual({ '1': plainBefore.length });

    const insiderDuring = traffic.between(abStart + 1, lastIteration, 'insider');
    expect(insiderDuring.length).toBeGreaterThan(10);
    expect(countByVersion(insiderDuring)).toEqual({ '2': insiderDuring.length });
    const insiderBefore = traffic.between(0, newRevision, 'insider');
    expect(countByVersion(insiderBefore)).toEqual({ '1': insiderBefore.length });

    // The canary was judged on the matched requests alone.
    for (const step of iterations.slice(1)) {
      expect(step.evidence).toMatchObject({ metrics: [{ name: 'request-success-rate', passed: true }] });
    }

    const succeeded = test.events('Succeeded')[0]!.at;
    await traffic.more(40);
    const plainAfter = traffic.between(succeeded + 1, Infinity, 'plain');
    expect(plainAfter.length).toBeGreaterThan(0);
    expect(countByVersion(plainAfter)).toEqual({ '2': plainAfter.length });
    await traffic.stop();
    expect(failures(traffic.samples)).toEqual([]);
  });
});
