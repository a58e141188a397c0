/**
 * `analysis.baseline: fresh` in the state machine (docs/adr/0018-fresh-baseline.md): the
 * baseline starts with the canary, takes the canary's weight from the primary, holds the
 * analysis while not ready, and stops whenever the rollout ends.
 */
import { describe, expect, it } from 'vitest';
import {
  appSpec,
  observations,
  PREVIOUS_REVISION,
  rolesOf,
  summarise,
} from '../../../test/support/rollout-scenario.js';
import { RolloutSimulator } from '../../../test/support/rollout-simulator.js';
import { NOT_RUNNING } from './observations.js';
import { step } from './step.js';
import { at, NOW, specWith } from './step-test-support.js';
import { baselineWeight } from './weights.js';

/** A judged canary (no threshold metric) stepping 10 → 30, with a fresh baseline. */
const fresh = specWith({ metrics: [], judge: {}, baseline: 'fresh' });
const passingJudge = { value: 0.5, sampleSize: 1000, passed: true };

/** A simulator of `spec` settled on {@link PREVIOUS_REVISION}, about to see `spec`'s revision. */
function settledSimulator(spec = fresh): RolloutSimulator {
  const sim = new RolloutSimulator(spec, NOW);
  sim.status = at('Succeeded', { canaryRevision: null, lastAppliedSpec: PREVIOUS_REVISION });
  Object.assign(sim, rolesOf(sim.status));
  sim.metrics.set('judge', passingJudge);
  return sim;
}

describe('baselineWeight', () => {
  it("is the canary's weight while a baseline runs, never more than the canary leaves", () => {
    expect([0, 10, 30, 50].map((w) => baselineWeight(w, true))).toEqual([0, 10, 30, 50]);
    expect(baselineWeight(80, true)).toBe(20);
    expect(baselineWeight(30, false)).toBe(0);
  });
});

describe('step: fresh baseline', () => {
  it("starts the baseline with the canary, on the primary's revision and the canary's replicas", () => {
    const sim = settledSimulator();
    const tick = sim.tick();
    expect(summarise(fresh, tick.actions)).toEqual([
      'alert info: New revision detected, progressing canary analysis.',
      'event NewRevision',
      'start-canary desired',
      'start-baseline previous',
      'event BaselineStarted',
    ]);
    expect(tick.actions).toContainEqual({
      kind: 'start-baseline',
      revision: PREVIOUS_REVISION,
      replicas: fresh.desired.replicas,
    });
    expect(tick.status).toMatchObject({ phase: 'Progressing', baselineRevision: PREVIOUS_REVISION });
  });

  it('gives the baseline the canary weight at every step, the primary 100 - 2w, and stops it at promotion', () => {
    const sim = settledSimulator();
    sim.runUntil((s) => s.phase === 'Succeeded');
    const lines = sim.history.flatMap((tick) => summarise(fresh, tick.actions));
    expect(lines.filter((line) => line.startsWith('routes'))).toEqual([
      'routes 80/10/10',
      'routes 60/20/20',
      'routes 40/30/30',
      // Promotion: the baseline's share goes back to the primary before it stops.
      'routes 70/30',
      'routes 100/0',
    ]);
    const promoting = lines.indexOf('event Promoting');
    expect(lines.slice(lines.indexOf('routes 70/30'), promoting + 1)).toEqual([
      'routes 70/30',
      'stop baseline',
      'event BaselineStopped',
      'promote-spec desired',
      'event Promoting',
    ]);
    expect(lines.filter((line) => line === 'stop baseline')).toHaveLength(1);
    expect(sim.baseline).toEqual(NOT_RUNNING);
    expect(sim.status).toMatchObject({ phase: 'Succeeded', baselineRevision: null });
  });

  it('keeps the default baseline out of the routes: no baseline weight, no baseline started', () => {
    const primary = specWith({ metrics: [], judge: {} });
    const sim = settledSimulator(primary);
    sim.runUntil((s) => s.phase === 'Succeeded');
    const lines = sim.history.flatMap((tick) => summarise(primary, tick.actions));
    expect(lines.filter((line) => line.startsWith('routes'))).toEqual([
      'routes 90/10',
      'routes 80/20',
      'routes 70/30',
      'routes 100/0',
    ]);
    expect(lines.some((line) => line.includes('baseline'))).toBe(false);
  });

  it('rolls back with the baseline: its traffic leaves with the canary and it is stopped', () => {
    const status = at('Progressing', { canaryWeight: 20, baselineRevision: PREVIOUS_REVISION });
    const rollback = { value: 0.0001, passed: false, rollback: true, detail: 'regression' };
    const result = step(
      fresh,
      status,
      observations({
        ...rolesOf(status),
        checks: { webhooks: [], metrics: [{ name: 'judge', ...rollback }] },
      }),
      NOW,
    );
    expect(summarise(fresh, result.actions)).toEqual([
      'event RegressionDetected',
      'alert error: Rolling back: regression detected (metric judge: regression)',
      'routes 100/0/0',
      'stop canary',
      'stop baseline',
      'event BaselineStopped',
      'event Failed',
    ]);
    expect(result.status).toMatchObject({ phase: 'Failed', baselineRevision: null, canaryWeight: 0 });
  });

  it('holds the step while the baseline is not ready', () => {
    const status = at('Progressing', { canaryWeight: 10, baselineRevision: PREVIOUS_REVISION });
    const notReady = { revision: PREVIOUS_REVISION, replicas: 1, readyReplicas: 0 };
    const result = step(fresh, status, observations({ ...rolesOf(status), baseline: notReady }), NOW);
    expect(result.actions).toEqual([
      expect.objectContaining({ reason: 'NotReady', message: 'Halt webapp advancement: baseline 0/1 ready' }),
    ]);
    expect(result.status.canaryWeight).toBe(10);
  });

  it('starts the baseline again, cold, when a new revision restarts the analysis', () => {
    const status = at('Progressing', { canaryWeight: 20, baselineRevision: PREVIOUS_REVISION });
    const next = { ...fresh, desired: { revision: 'f00dfeedbeef', replicas: 1 } };
    const result = step(next, status, observations(rolesOf(status)), NOW);
    const lines = summarise(next, result.actions);
    expect(lines.slice(0, 5)).toEqual([
      'routes 100/0/0',
      'start-canary desired',
      'stop baseline',
      'event BaselineStopped',
      'start-baseline previous',
    ]);
    expect(result.status.baselineRevision).toBe(PREVIOUS_REVISION);
  });

  it('stops the baseline when the app is removed or the change is reverted', () => {
    const status = at('Progressing', { canaryWeight: 20, baselineRevision: PREVIOUS_REVISION });
    const reverted = { ...fresh, desired: { revision: PREVIOUS_REVISION, replicas: 1 } };
    const result = step(reverted, status, observations(rolesOf(status)), NOW);
    expect(summarise(reverted, result.actions)).toContain('stop baseline');
    expect(result.status.baselineRevision).toBeNull();
  });

  it('scales the baseline with the canary', () => {
    const sim = settledSimulator();
    sim.tick();
    const analysis = {
      interval: '1m',
      threshold: 2,
      stepWeight: 10,
      maxWeight: 30,
      judge: {},
      baseline: 'fresh' as const,
    };
    sim.spec = appSpec({
      process: { command: 'node', args: ['server.js'], env: { VERSION: '2' }, replicas: 3 },
      canary: { progressDeadlineSeconds: 600, analysis },
    });
    expect(sim.spec.desired.revision).toBe(fresh.desired.revision);
    const lines = summarise(sim.spec, sim.tick().actions);
    expect(lines).toEqual(expect.arrayContaining(['scale canary 3', 'scale baseline 3']));
  });
});
