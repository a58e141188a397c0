import { describe, expect, it } from 'vitest';
import { appSpec, readyRole, summarise } from '../../../test/support/rollout-scenario.js';
import { RolloutSimulator } from '../../../test/support/rollout-simulator.js';
import { at, DESIRED, itTicks, NOW, specWith, type StepRow } from './step-test-support.js';

const ROWS: readonly StepRow[] = [
  {
    name: 'Promoting waits until the primary runs the promoted revision',
    status: at('Promoting', { canaryWeight: 30 }),
    setup: (sim) => (sim.primary = readyRole('a1b2c3d4e5f6')),
    phase: 'Promoting',
    actions: ['event NotReady'],
  },
  {
    name: 'Promoting routes all traffic back once the primary is ready',
    status: at('Promoting', { canaryWeight: 30, nextCheckAt: NOW + 30_000 }),
    phase: 'Finalising',
    actions: ['routes 100/0', 'event Finalising'],
  },
  {
    name: 'a deadline passed while Promoting puts the previous revision back on the primary',
    status: at('Promoting', { canaryWeight: 30, lastProgressTime: NOW - 700_000 }),
    setup: (sim) => (sim.primary = { revision: DESIRED, replicas: 1, readyReplicas: 0 }),
    phase: 'Failed',
    actions: [
      'event DeadlineExceeded',
      'alert error: Progress deadline exceeded (no progress for 10m: primary 0/1 ready)',
      'routes 100/0',
      'stop canary',
      'promote-spec previous',
      'hooks post-rollout',
      'event Failed',
    ],
  },
  {
    name: 'Finalising stops the canary and settles as Succeeded',
    status: at('Finalising'),
    phase: 'Succeeded',
    actions: [
      'stop canary',
      'hooks post-rollout',
      'event Succeeded',
      'alert info: Canary analysis completed successfully, promotion finished.',
    ],
    then: (s) => expect([s.lastPromotedSpec, s.canaryRevision]).toEqual([DESIRED, null]),
  },
];

describe('step: promotion transitions', () => {
  itTicks(ROWS);
});

describe('step: whole canary rollouts', () => {
  function rollOut(analysis: Record<string, unknown>, canary: Record<string, unknown> = {}) {
    const sim = new RolloutSimulator(specWith(analysis, canary));
    sim.spec = appSpec({ canary: sim.spec.canary, process: { command: 'node', env: { VERSION: '1' } } });
    sim.runUntil((s) => s.phase === 'Initialized');
    sim.spec = appSpec({ canary: sim.spec.canary, process: { command: 'node', env: { VERSION: '2' } } });
    return sim;
  }

  it('follows stepWeights, then promotes and finalises', () => {
    const sim = rollOut({ stepWeight: undefined, maxWeight: undefined, stepWeights: [5, 25, 60] });
    const ticks = sim.runUntil((s) => s.phase === 'Succeeded');
    expect(ticks.map((t) => `${t.status.phase}:${t.status.canaryWeight}`)).toEqual([
      'Progressing:0',
      'Progressing:5',
      'Progressing:25',
      'Progressing:60',
      'Promoting:60',
      'Finalising:0',
      'Succeeded:0',
    ]);
    expect(sim.primary.revision).toBe(sim.spec.desired.revision);
    expect(sim.canary.revision).toBeNull();
    expect(sim.routes).toEqual({ primaryWeight: 100, canaryWeight: 0, mirror: false, abTesting: false });
  });

  it('moves traffic back by stepWeightPromotion, one step per interval', () => {
    const sim = rollOut({ stepWeight: 25, maxWeight: 50, stepWeightPromotion: 20 });
    const ticks = sim.runUntil((s) => s.phase === 'Succeeded');
    expect(ticks.map((t) => `${t.status.phase}:${t.status.canaryWeight}`)).toEqual([
      'Progressing:0',
      'Progressing:25',
      'Progressing:50',
      'Promoting:50',
      'Promoting:30',
      'Promoting:10',
      'Finalising:0',
      'Succeeded:0',
    ]);
  });

  it('mirrors for one step before shifting weight when mirror is set', () => {
    const sim = rollOut({ mirror: true, mirrorWeight: 50 });
    const ticks = sim.runUntil((s) => s.phase === 'Promoting');
    expect(
      ticks.map((t) =>
        summarise(sim.spec, t.actions)
          .filter((a) => a.startsWith('routes'))
          .join(),
      ),
    ).toEqual(['', 'routes 100/0 mirror 50%', 'routes 90/10', 'routes 80/20', 'routes 70/30', '']);
  });

  it('lets the progress deadline end a rollout that never gets enough data', () => {
    const sim = rollOut({}, { progressDeadlineSeconds: 300 });
    sim.metrics.set('request-success-rate', { value: 100, sampleSize: 2, passed: true });
    const ticks = sim.runUntil((s) => s.phase === 'Failed');
    expect(ticks.map((t) => t.status.canaryWeight)).toEqual([0, 10, 10, 10, 10, 10, 10, 0]);
    expect(summarise(sim.spec, ticks.at(-1)!.actions)).toContain(
      'alert error: Progress deadline exceeded (no progress for 5m: no verdict from the checks (metrics without enough data))',
    );
  });
});
