import { describe, expect, it } from 'vitest';
import { RolloutSimulator } from '../../../test/support/rollout-simulator.js';
import { rebaseStatus } from './clock-rebase.js';
import { specWith } from './step-test-support.js';

const HOUR = 3_600_000;
/** 1m interval, steps 10, 20, 30, then promotion; a deadline of 10 minutes. */
const spec = specWith({});

/** A rollout from the start of its analysis to its end, the wall clock stepped by `jumpMs` after `stepsBefore` check ticks. */
function rolloutWithJump(jumpMs: number, rebase: boolean, stepsBefore = 3) {
  const sim = new RolloutSimulator(spec);
  sim.runUntil((s) => s.phase === 'Initialized');
  sim.spec = { ...spec, desired: { ...spec.desired, revision: 'r2' } };
  const ticks = [...sim.runUntil((s) => s.phase === 'Progressing')];
  for (let i = 0; i < stepsBefore; i++) ticks.push(sim.tick());
  // The step lands 20 s into an interval: the next check is due 40 s later in real time.
  sim.now += 20_000 + jumpMs;
  if (rebase) sim.status = rebaseStatus(sim.status!, jumpMs);
  ticks.push(sim.tick({ after: 40_000 }));
  ticks.push(...sim.runUntil((s) => s.phase === 'Succeeded' || s.phase === 'Failed'));
  const reasons = ticks.flatMap((t) => t.actions.flatMap((a) => (a.kind === 'event' ? [a.reason] : [])));
  return {
    status: sim.status!,
    weights: ticks
      .filter((t) => t.actions.some((a) => a.kind === 'set-routes'))
      .map((t) => t.status.canaryWeight),
    reasons,
    ticks: ticks.length,
  };
}

describe('rebaseStatus: a wall-clock jump in the middle of an analysis', () => {
  const undisturbed = rolloutWithJump(0, false);

  it.each([
    ['forward 1 h', HOUR],
    ['back 1 h', -HOUR],
  ])('%s, rebased, ends as the undisturbed rollout with the same steps at the same cadence', (_, jumpMs) => {
    const rebased = rolloutWithJump(jumpMs, true);
    expect(undisturbed.status.phase).toBe('Succeeded');
    expect(rebased.status.phase).toBe('Succeeded');
    expect(rebased.weights).toEqual(undisturbed.weights);
    expect(rebased.reasons).toEqual(undisturbed.reasons);
    expect(rebased.ticks).toBe(undisturbed.ticks);
  });

  it('not rebased, a forward hour passes the progress deadline and rolls back', () => {
    const raw = rolloutWithJump(HOUR, false);
    expect(raw.status.phase).toBe('Failed');
    expect(raw.reasons).toContain('DeadlineExceeded');
  });

  it('not rebased, a backward hour stalls the analysis for an hour of check intervals', () => {
    const raw = rolloutWithJump(-HOUR, false);
    expect(raw.status.phase).toBe('Succeeded');
    expect(raw.ticks - undisturbed.ticks).toBeGreaterThanOrEqual(59);
  });

  it('shifts every time of the status, and nothing else', () => {
    const { status } = rolloutWithJump(0, false);
    const moved = rebaseStatus(status, -5_000);
    expect(moved).toEqual({
      ...status,
      lastTransitionTime: status.lastTransitionTime - 5_000,
      lastProgressTime: status.lastProgressTime - 5_000,
      nextCheckAt: status.nextCheckAt - 5_000,
      promoted: { ...status.promoted, lastTransitionTime: status.promoted.lastTransitionTime - 5_000 },
    });
    expect(rebaseStatus(status, 0)).toBe(status);
  });
});
