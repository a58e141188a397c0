import { describe, expect, it } from 'vitest';
import type { ScenarioApp } from '../../../test/support/rollout-scenario.js';
import { NOT_RUNNING } from './observations.js';
import { requiredChecks, type RequiredChecks } from './required-checks.js';
import type { RolloutPhase, RolloutStatus } from './rollout-status.js';
import { appSpec, rolesOf, statusIn } from '../../../test/support/rollout-scenario.js';

const HOOK = 'http://127.0.0.1:8089/';
const NOW = 300_000;
const TYPES = [
  'confirm-rollout',
  'pre-rollout',
  'rollout',
  'confirm-traffic-increase',
  'confirm-promotion',
  'rollback',
  'post-rollout',
  'event',
] as const;

function specWith(analysis: Record<string, unknown> = {}, canary: Record<string, unknown> = {}): ScenarioApp {
  return appSpec({
    canary: {
      ...canary,
      analysis: {
        interval: '1m',
        stepWeight: 10,
        maxWeight: 30,
        metrics: [
          { name: 'request-success-rate', thresholdRange: { min: 99 } },
          { name: 'request-duration', thresholdRange: { max: 500 } },
        ],
        webhooks: TYPES.map((type) => ({ name: type, type, url: HOOK })),
        ...analysis,
      },
    },
  });
}

const spec = specWith();
const at = (phase: RolloutPhase, overrides: Partial<RolloutStatus> = {}, s: ScenarioApp = spec) =>
  statusIn(s, phase, { lastProgressTime: NOW - 60_000, nextCheckAt: NOW, ...overrides });

/** `type:phase` per hook stage, then metric names, for compact assertions. */
function brief(checks: RequiredChecks): string[] {
  return [
    ...checks.hookStages.map((stage) => `${stage.type}:${stage.phase}`),
    ...checks.metrics.map((m) => m.name),
  ];
}

const desired = spec.desired.revision;
const settledOnDesired = { lastAppliedSpec: desired, lastPromotedSpec: desired, primaryRevision: desired };

describe('requiredChecks', () => {
  const ROWS: readonly (readonly [string, RolloutStatus | undefined, readonly string[], ScenarioApp?])[] = [
    ['nothing for a new app', undefined, []],
    ['nothing while settled on the desired revision', at('Succeeded', settledOnDesired), []],
    ['confirm-rollout for a new revision', at('Succeeded'), ['confirm-rollout:Progressing']],
    ['only the gate before the check tick is due', at('Succeeded', { nextCheckAt: NOW + 1 }), []],
    ['confirm-rollout again while Waiting', at('Waiting'), ['confirm-rollout:Progressing']],
    [
      'pre-rollout at the start of the analysis, no metrics',
      at('Progressing'),
      ['rollback:Progressing', 'pre-rollout:Progressing', 'confirm-traffic-increase:Progressing'],
    ],
    [
      'rollout hooks and every metric once traffic flows',
      at('Progressing', { canaryWeight: 10 }),
      [
        'rollback:Progressing',
        'rollout:Progressing',
        'confirm-traffic-increase:Progressing',
        'request-success-rate',
        'request-duration',
      ],
    ],
    [
      'confirm-promotion at maxWeight, rollback hooks told the current phase',
      at('WaitingPromotion', { canaryWeight: 30 }),
      [
        'rollback:WaitingPromotion',
        'rollout:Progressing',
        'confirm-promotion:Progressing',
        'request-success-rate',
        'request-duration',
      ],
    ],
    [
      'no traffic gate when leaving a mirror step',
      at('Progressing', { mirror: true }, specWith({ mirror: true })),
      ['rollback:Progressing', 'rollout:Progressing', 'request-success-rate', 'request-duration'],
      specWith({ mirror: true }),
    ],
    [
      'confirm-promotion once the blue/green iterations are done',
      at('Progressing', { iterations: 3 }, specWith({ stepWeight: undefined, iterations: 3 })),
      [
        'rollback:Progressing',
        'rollout:Progressing',
        'confirm-promotion:Progressing',
        'request-success-rate',
        'request-duration',
      ],
      specWith({ stepWeight: undefined, iterations: 3 }),
    ],
    ['nothing between check ticks', at('Progressing', { canaryWeight: 10, nextCheckAt: NOW + 1 }), []],
    ['nothing while paused', at('Progressing', { canaryWeight: 10, paused: true }), []],
    ['nothing once the threshold is reached', at('Progressing', { canaryWeight: 10, failedChecks: 1 }), []],
    [
      'nothing past the progress deadline',
      at('Progressing', { canaryWeight: 10, lastProgressTime: NOW - 600_001 }),
      [],
    ],
    [
      'nothing when a new revision restarts the analysis',
      at('Progressing', { canaryWeight: 10, lastAppliedSpec: 'c0ffeec0ffee' }),
      [],
    ],
    ['nothing while Promoting', at('Promoting', { canaryWeight: 30 }), []],
    ['nothing while suspended', at('Progressing', { canaryWeight: 10 }), [], specWith({}, { suspend: true })],
  ];

  it.each(ROWS.map(([name, status, expected, s]) => ({ name, status, expected, s: s ?? spec })))(
    '$name',
    ({ status, expected, s }) => {
      expect(brief(requiredChecks(s, status, NOW))).toEqual(expected);
    },
  );

  it('asks nothing while a role is not ready, when told the roles', () => {
    const status = at('Progressing', { canaryWeight: 10 });
    expect(brief(requiredChecks(spec, status, NOW, rolesOf(status)))).toHaveLength(5);
    expect(brief(requiredChecks(spec, status, NOW, { ...rolesOf(status), canary: NOT_RUNNING }))).toEqual([]);
  });
});
