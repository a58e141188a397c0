/**
 * Case e of issue 3: blue/green with mirroring (`iterations` + `mirror: true`). While the
 * canary is analysed it receives copies of live requests and clients get only the primary's
 * answers; then all traffic switches to the canary for one more interval and it is promoted.
 */
import { describe, expect, it } from 'vitest';
import type { RolloutEventRecord } from '../../src/rollout/controller/action-executor.js';
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

describe('blue/green with mirroring', { timeout: TEST_TIMEOUT_MS }, () => {
  it('mirrors traffic to the canary while clients are served by the primary, then promotes', async () => {
    const test = await startTestRuntime(
      catalogProcess('1'),
      quickCanary({ iterations: 3, mirror: true, metrics: [SUCCESS_RATE_CHECK] }),
    );
    await test.waitForPhase('Initialized');
    const canaryTraffic = test.runtime.proxy!.metrics.versionTraffic('catalogdetail', 'canary');
    // Exact cumulative counters of the canary, read when the last mirrored iteration is recorded.
    let atLastIteration: { requests: number; mirrored: number } | undefined;
    test.runtime.controller.on('event', (event: RolloutEventRecord) => {
      if (event.reason === 'IterationAdvanced' && event.message.endsWith('3/3')) {
        atLastIteration = {
          requests: canaryTraffic.totals.requests,
          mirrored: canaryTraffic.totals.mirrored,
        };
      }
    });
    const traffic = TrafficLoop.start(test.runtime.routerUrl);

    test.deploy(catalogProcess('2'));
    await test.waitForPhase('Succeeded');

    expect(test.events().map((e) => e.reason)).toEqual(
      expect.arrayContaining([
        'MirrorStarted',
        'IterationAdvanced',
        'TrafficSwitched',
        'Promoting',
        'Succeeded',
      ]),
    );
    expect(test.events('IterationAdvanced')).toHaveLength(3);
    expect(test.events('TrafficSwitched')[0]!.message).toBe(
      'Stop traffic mirroring and route all catalogdetail traffic to canary',
    );
    expect(atLastIteration).toBeDefined();
    expect(atLastIteration!.requests).toBe(0);
    expect(atLastIteration!.mirrored).toBeGreaterThan(10);
    // Iterations after the first were judged on the mirrored copies.
    for (const step of test.events('IterationAdvanced').slice(1)) {
      expect(step.evidence).toMatchObject({ metrics: [{ name: 'request-success-rate', passed: true }] });
    }

    // Traffic switches in a tick after the last mirrored iteration is recorded.
    const lastIteration = test.events('IterationAdvanced')[2]!.at;
    const beforeSwitch = traffic.between(0, lastIteration);
    expect(beforeSwitch.length).toBeGreaterThan(20);
    expect(countByVersion(beforeSwitch)).toEqual({ '1': beforeSwitch.length });

    const metrics = await (await fetch(`${test.runtime.controlUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /aviary_proxy_mirror_requests_total\{[^}]*version="canary"[^}]*result="200"\} [1-9]/,
    );

    const succeeded = test.events('Succeeded')[0]!.at;
    await traffic.more(40);
    const after = traffic.between(succeeded + 1);
    expect(countByVersion(after)).toEqual({ '2': after.length });
    await traffic.stop();
    expect(failures(traffic.samples)).toEqual([]);
  });
});
