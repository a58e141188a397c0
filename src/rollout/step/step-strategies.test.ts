import { describe, expect, it } from 'vitest';
import type { ScenarioApp } from '../../../test/support/rollout-scenario.js';
import { appSpec, summarise } from '../../../test/support/rollout-scenario.js';
import { RolloutSimulator } from '../../../test/support/rollout-simulator.js';

const HOOK = 'http://127.0.0.1:8089/';

function rollOut(analysis: Record<string, unknown>): RolloutSimulator {
  const canary = {
    analysis: {
      interval: '1m',
      threshold: 2,
      metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 } }],
      webhooks: [{ name: 'smoke', type: 'pre-rollout' as const, url: HOOK }],
      ...analysis,
    },
  };
  const version = (v: string): ScenarioApp =>
    appSpec({ canary, process: { command: 'node', env: { VERSION: v } } });
  const sim = new RolloutSimulator(version('1'));
  sim.runUntil((s) => s.phase === 'Initialized');
  sim.spec = version('2');
  return sim;
}

/** One line per tick: phase, iterations, the routes set and the checks asked. */
function timeline(sim: RolloutSimulator, until: (phase: string) => boolean): string[] {
  return sim
    .runUntil((s) => until(s.phase))
    .map((t) => {
      const routes = summarise(sim.spec, t.actions).filter((a) => a.startsWith('routes'));
      const checks = [
        ...t.required.hookStages.map((stage) => stage.type),
        ...t.required.metrics.map((m) => m.name),
      ];
      return `${t.status.phase} it=${t.status.iterations} [${routes.join()}] {${checks.join()}}`;
    });
}

describe('A/B testing (match + iterations)', () => {
  const match = [
    { headers: { 'x-canary': { exact: 'insider' } } },
    { headers: { cookie: { regex: '^(.*?;)?(canary=always)(;.*)?$' } } },
  ];

  it('routes matching requests to the canary for the iterations, then promotes', () => {
    const sim = rollOut({ iterations: 3, match });
    expect(timeline(sim, (phase) => phase === 'Succeeded')).toEqual([
      'Progressing it=0 [] {}',
      'Progressing it=1 [routes 0/100 ab] {pre-rollout}',
      'Progressing it=2 [] {request-success-rate}',
      'Progressing it=3 [] {request-success-rate}',
      'Promoting it=3 [] {request-success-rate}',
      'Finalising it=3 [routes 100/0] {}',
      'Succeeded it=0 [] {}',
    ]);
  });

  it('waits in WaitingPromotion after the iterations while confirm-promotion is closed, still analysing', () => {
    const sim = rollOut({
      iterations: 2,
      match,
      webhooks: [{ name: 'ship', type: 'confirm-promotion', url: HOOK }],
    });
    sim.hooks.set('ship', 'not approved');
    sim.runUntil((s) => s.phase === 'WaitingPromotion');
    sim.metrics.set('request-success-rate', { value: 90, sampleSize: 500, passed: false });
    const tick = sim.tick();
    expect(tick.status).toMatchObject({
      phase: 'WaitingPromotion',
      failedChecks: 1,
      canaryWeight: 100,
      abTesting: true,
    });
    sim.metrics.delete('request-success-rate');
    sim.hooks.delete('ship');
    expect(sim.tick().status.phase).toBe('Promoting');
  });
});

describe('blue/green (iterations only)', () => {
  it('keeps all traffic on the primary during the iterations, switches, then promotes', () => {
    const sim = rollOut({ iterations: 3 });
    expect(timeline(sim, (phase) => phase === 'Succeeded')).toEqual([
      'Progressing it=0 [] {}',
      'Progressing it=1 [] {pre-rollout}',
      'Progressing it=2 [] {request-success-rate}',
      'Progressing it=3 [] {request-success-rate}',
      'Progressing it=4 [routes 0/100] {request-success-rate}',
      'Promoting it=4 [] {request-success-rate}',
      'Finalising it=4 [routes 100/0] {}',
      'Succeeded it=0 [] {}',
    ]);
  });

  it('mirrors traffic to the canary during the iterations, then stops mirroring and switches', () => {
    const sim = rollOut({ iterations: 2, mirror: true, mirrorWeight: 25 });
    const ticks = sim.runUntil((s) => s.phase === 'Promoting');
    const lines = ticks.map((t) =>
      summarise(sim.spec, t.actions)
        .filter((a) => a.startsWith('routes') || a.startsWith('event'))
        .join(', '),
    );
    expect(lines).toEqual([
      'event NewRevision',
      'routes 100/0 mirror 25%, event MirrorStarted, event IterationAdvanced',
      'event IterationAdvanced',
      'routes 0/100, event TrafficSwitched',
      'event Promoting',
    ]);
    expect(ticks[3]!.actions).toContainEqual(
      expect.objectContaining({ message: 'Stop traffic mirroring and route all webapp traffic to canary' }),
    );
  });

  it('rolls back from the switched state when the checks fail there', () => {
    const sim = rollOut({ iterations: 1, threshold: 1 });
    sim.runUntil((s) => s.canaryWeight === 100);
    sim.metrics.set('request-success-rate', { value: 50, sampleSize: 500, passed: false });
    const tick = sim.tick();
    expect(tick.status).toMatchObject({ phase: 'Failed', canaryWeight: 0 });
    expect(sim.routes.primaryWeight).toBe(100);
    expect(sim.canary.revision).toBeNull();
  });
});
