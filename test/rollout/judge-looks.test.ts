/**
 * Issue 12, continuous looks: with `analysis.judge`, the controller asks the judge every
 * `judge.lookInterval` (1 s) between check ticks. A canary answering 500s is rolled back at
 * the look that proves it, before the first check of a 1m interval; a healthy canary is
 * looked at all along but its weight still moves only at check ticks. Real runtime, real
 * processes, the router's own counters; nothing is timed.
 */
import { describe, expect, it } from 'vitest';
import type { JudgeLook, RolloutView } from '../../src/rollout/controller/controller.js';
import {
  APP,
  catalogProcess,
  describeRollout,
  startTestRuntime,
  TEST_TIMEOUT_MS,
  TrafficLoop,
  waitFor,
  type AnalysisInput,
  type TestRuntime,
} from './support.js';

const judged = (analysis: AnalysisInput) => ({
  progressDeadlineSeconds: 600,
  analysis: { threshold: 5, stepWeight: 10, maxWeight: 30, judge: {}, ...analysis },
});

/** The controller's looks and statuses of {@link APP}, in the order it emitted them. */
type Entry = { kind: 'look'; look: JudgeLook } | { kind: 'status'; weight: number; nextCheckAt: number };

function timeline(test: TestRuntime): Entry[] {
  const entries: Entry[] = [];
  test.runtime.controller.on('look', (look: JudgeLook) => {
    if (look.app === APP) entries.push({ kind: 'look', look });
  });
  test.runtime.controller.on('status', (view: RolloutView) => {
    if (view.app === APP && view.status)
      entries.push({
        kind: 'status',
        weight: view.status.canaryWeight,
        nextCheckAt: view.status.nextCheckAt,
      });
  });
  return entries;
}

/** Reasons of the events recorded since the rollout of the new revision began. */
function reasonsSinceNewRevision(test: TestRuntime): string[] {
  const reasons = test.events().map((e) => e.reason);
  return reasons.slice(reasons.lastIndexOf('NewRevision'));
}

describe('continuous judge looks', { timeout: TEST_TIMEOUT_MS }, () => {
  it('rolls back a canary answering 500s at a look, before the first check of a 1m interval', async () => {
    const test = await startTestRuntime(catalogProcess('1'), judged({ interval: '1m' }));
    await test.waitForPhase('Initialized');
    const entries = timeline(test);
    TrafficLoop.start(test.runtime.routerUrl);

    test.deploy(catalogProcess('3', { FAIL_RATE: '1' }));
    await test.waitForPhase('Progressing');
    const { nextCheckAt } = test.runtime.controller.view(APP).status!;
    // The first step of a 1m interval would come after a minute: the operator routes 20 % now.
    test.runtime.controller.command(APP, { kind: 'set-weights', canaryWeight: 20 }, 'test');
    await test.waitForPhase('Failed');

    expect(reasonsSinceNewRevision(test)).toEqual([
      'NewRevision',
      'CommandReceived',
      'WeightsSet',
      'RegressionDetected',
      'Failed',
    ]);
    // No check tick ran: the interval's first check is still the one set when the analysis began.
    expect(test.runtime.controller.view(APP).status).toMatchObject({
      phase: 'Failed',
      failedChecks: 1,
      nextCheckAt,
    });
    const [detected] = test.events('RegressionDetected');
    expect(detected!.message).toMatch(
      /^Rolling back catalogdetail: regression detected \(metric judge: regression: .*\); rolled back after \d+ canary requests \(\d+s\); the threshold policy \(Flagger's: 5 failed checks at 1m\) would have waited at least 6 intervals \(6m\)$/,
    );
    expect(detected!.evidence).toMatchObject({ metrics: [{ name: 'judge', rollback: true }] });

    // The judge was asked at looks only, and the last look is the one that rolled back.
    const looks = entries.flatMap((e) => (e.kind === 'look' ? [e.look.result] : []));
    expect(looks.length).toBeGreaterThan(0);
    expect(looks.map((r) => r.rollback === true)).toEqual([...looks.slice(1).map(() => false), true]);
  });

  it('looks at a healthy canary between checks, yet moves its weight only at check ticks', async () => {
    const test = await startTestRuntime(catalogProcess('1'), judged({ interval: '4s' }));
    await test.waitForPhase('Initialized');
    const entries = timeline(test);
    TrafficLoop.start(test.runtime.routerUrl);

    test.deploy(catalogProcess('2'));
    await waitFor(
      'the second weight step',
      // The status event, not the view: the view can show the new weight before the event is out.
      () => (entries.some((e) => e.kind === 'status' && e.weight >= 20) ? true : undefined),
      () => describeRollout(test),
    );

    // Every weight change came with a new nextCheckAt: it was a check tick, never a look.
    let previous: { weight: number; nextCheckAt: number } | undefined;
    const changes: number[] = [];
    entries.forEach((entry, index) => {
      if (entry.kind !== 'status') return;
      if (previous !== undefined && entry.weight !== previous.weight) {
        expect(entry.nextCheckAt).not.toBe(previous.nextCheckAt);
        changes.push(index);
      }
      previous = entry;
    });
    expect(changes).toHaveLength(2);
    // Between the first step (0 → 10) and the second (10 → 20) the judge looked, and passed on.
    const between = entries.slice(changes[0], changes[1]).filter((e) => e.kind === 'look');
    expect(between.length).toBeGreaterThan(0);
    for (const entry of entries)
      if (entry.kind === 'look') expect(entry.look.result.rollback).toBeUndefined();
    expect(test.events('WeightAdvanced').map((e) => e.message)).toEqual([
      'Advance catalogdetail canary weight 10',
      'Advance catalogdetail canary weight 20',
    ]);
  });
});
