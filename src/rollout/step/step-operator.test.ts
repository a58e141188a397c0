import { describe, expect, it } from 'vitest';
import type { ScenarioApp } from '../../../test/support/rollout-scenario.js';
import type { OperatorCommand } from './observations.js';
import { requiredChecks } from './required-checks.js';
import type { RolloutPhase, RolloutStatus } from './rollout-status.js';
import { appSpec, rolesOf, statusIn, summarise } from '../../../test/support/rollout-scenario.js';
import { RolloutSimulator } from '../../../test/support/rollout-simulator.js';

const HOOK = 'http://127.0.0.1:8089/';
const NOW = 300_000;

function specWith(analysis: Record<string, unknown> = {}): ScenarioApp {
  return appSpec({
    canary: {
      analysis: {
        interval: '1m',
        stepWeight: 10,
        maxWeight: 30,
        metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 } }],
        webhooks: [{ name: 'notify', type: 'post-rollout', url: HOOK }],
        ...analysis,
      },
    },
  });
}

const spec = specWith();
const DESIRED = spec.desired.revision;
const at = (phase: RolloutPhase, overrides: Partial<RolloutStatus> = {}) =>
  statusIn(spec, phase, { lastProgressTime: NOW - 60_000, nextCheckAt: NOW, ...overrides });
const ROLLBACK = ['routes 100/0', 'stop canary', 'hooks post-rollout', 'event Failed'];

function apply(status: RolloutStatus, commands: OperatorCommand[], s: ScenarioApp = spec) {
  const sim = new RolloutSimulator(s, NOW);
  sim.status = status;
  Object.assign(sim, rolesOf(status));
  const tick = sim.tick({ commands });
  return { sim, tick, actions: summarise(s, tick.actions) };
}

describe('operator commands', () => {
  const settledOnDesired = at('Succeeded', {
    lastAppliedSpec: DESIRED,
    lastPromotedSpec: DESIRED,
    primaryRevision: DESIRED,
  });
  const ABORTED = ['event OperatorAborted', 'alert warn: Canary rolled back by operator.'];
  const PROMOTED = ['event OperatorPromoted', 'promote-spec desired', 'event Promoting'];

  it.each<readonly [string, RolloutStatus, OperatorCommand, RolloutPhase, readonly string[]]>([
    [
      'abort in Progressing rolls back at once',
      at('Progressing', { canaryWeight: 20 }),
      { kind: 'abort' },
      'Failed',
      [...ABORTED, ...ROLLBACK],
    ],
    [
      'abort in Waiting refuses the revision',
      at('Waiting', { canaryRevision: null }),
      { kind: 'abort', reason: 'bad build' },
      'Failed',
      [...ABORTED, 'hooks post-rollout', 'event Failed'],
    ],
    [
      'abort in Promoting puts the previous revision back on the primary',
      at('Promoting', { canaryWeight: 30 }),
      { kind: 'abort' },
      'Failed',
      [
        ...ABORTED,
        'routes 100/0',
        'stop canary',
        'promote-spec previous',
        'hooks post-rollout',
        'event Failed',
      ],
    ],
    [
      'abort when settled is ignored',
      settledOnDesired,
      { kind: 'abort' },
      'Succeeded',
      ['event CommandIgnored'],
    ],
    [
      'promote in Progressing skips the remaining steps',
      at('Progressing', { canaryWeight: 10 }),
      { kind: 'promote' },
      'Promoting',
      PROMOTED,
    ],
    [
      'promote in Waiting promotes without a canary',
      at('Waiting', { canaryRevision: null }),
      { kind: 'promote' },
      'Promoting',
      PROMOTED,
    ],
    [
      'promote when settled is ignored',
      at('Failed'),
      { kind: 'promote' },
      'Failed',
      ['event CommandIgnored'],
    ],
    [
      'set-weights routes by hand',
      at('Progressing', { canaryWeight: 10 }),
      { kind: 'set-weights', canaryWeight: 40 },
      'Progressing',
      ['routes 60/40', 'event WeightsSet'],
    ],
    [
      'set-weights below maxWeight leaves WaitingPromotion',
      at('WaitingPromotion', { canaryWeight: 30 }),
      { kind: 'set-weights', canaryWeight: 10 },
      'Progressing',
      ['routes 90/10', 'event WeightsSet'],
    ],
    [
      'set-weights when settled is ignored',
      settledOnDesired,
      { kind: 'set-weights', canaryWeight: 10 },
      'Succeeded',
      ['event CommandIgnored'],
    ],
    [
      'resume without pause is ignored',
      at('Progressing'),
      { kind: 'resume' },
      'Progressing',
      ['event CommandIgnored'],
    ],
    [
      'pause twice is ignored the second time',
      at('Progressing', { paused: true }),
      { kind: 'pause' },
      'Progressing',
      ['event CommandIgnored'],
    ],
  ])('%s', (_name, status, command, phase, expected) => {
    const { tick, actions } = apply(status, [command]);
    expect(actions).toEqual(expected);
    expect(tick.status.phase).toBe(phase);
  });

  it('set-weights is refused for A/B testing', () => {
    const ab = specWith({
      stepWeight: undefined,
      iterations: 5,
      match: [{ headers: { 'x-canary': { exact: 'insider' } } }],
    });
    const { actions } = apply(statusIn(ab, 'Progressing'), [{ kind: 'set-weights', canaryWeight: 50 }], ab);
    expect(actions).toEqual(['event CommandIgnored']);
  });

  it('a promotion forced by the operator finishes with its own alert', () => {
    const { sim } = apply(at('Progressing', { canaryWeight: 10 }), [{ kind: 'promote' }]);
    const ticks = sim.runUntil((s) => s.phase === 'Succeeded');
    expect(summarise(spec, ticks.at(-1)!.actions)).toContain(
      'alert info: Canary promoted by operator, promotion finished.',
    );
    expect(sim.primary.revision).toBe(DESIRED);
  });

  it('pause holds everything, the deadline included; resume restarts the clock', () => {
    const { sim, tick } = apply(at('Progressing', { canaryWeight: 10 }), [{ kind: 'pause' }]);
    expect(summarise(spec, tick.actions)).toEqual(['event Paused']);
    expect(tick.status.paused).toBe(true);

    const frozen = sim.tick({ after: 3_600_000 });
    expect(frozen.actions).toEqual([]);
    expect(frozen.required).toEqual({ hookStages: [], metrics: [] });
    expect(frozen.status.phase).toBe('Progressing');

    const resumed = sim.tick({ after: 1000, commands: [{ kind: 'resume' }] });
    expect(summarise(spec, resumed.actions)).toEqual(['event Resumed']);
    expect(resumed.status).toMatchObject({
      paused: false,
      lastProgressTime: resumed.now,
      nextCheckAt: resumed.now,
      canaryWeight: 10,
    });

    const next = sim.tick({ after: 0 });
    expect(summarise(spec, next.actions)).toEqual(['routes 80/20', 'event WeightAdvanced']);
  });

  it('a call that carries commands runs no checks, even when they are due and supplied', () => {
    const { tick } = apply(at('Progressing', { canaryWeight: 10 }), [
      { kind: 'set-weights', canaryWeight: 20 },
    ]);
    expect(tick.status).toMatchObject({ canaryWeight: 20, nextCheckAt: NOW, failedChecks: 0 });
    expect(requiredChecks(spec, tick.status, NOW, rolesOf(tick.status)).metrics).toHaveLength(1);
  });

  it('applies commands in order: promote after pause unpauses', () => {
    const { tick } = apply(at('Progressing', { canaryWeight: 10 }), [{ kind: 'pause' }, { kind: 'promote' }]);
    expect(tick.status).toMatchObject({ phase: 'Promoting', paused: false, promotion: 'operator' });
  });
});
