import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ScenarioApp } from '../../../test/support/rollout-scenario.js';
import type { OperatorCommand } from './observations.js';
import { ANALYSIS_PHASES } from './rollout-status.js';
import { appSpec } from '../../../test/support/rollout-scenario.js';
import { RolloutSimulator } from '../../../test/support/rollout-simulator.js';
import { strategyOf } from './weights.js';

const HOOK = 'http://127.0.0.1:8089/';
const AB_MATCH = [{ headers: { 'x-canary': { exact: 'insider' } } }];
const HOOK_TYPES = [
  'pre-rollout',
  'rollout',
  'confirm-traffic-increase',
  'confirm-promotion',
  'rollback',
  'post-rollout',
] as const;

const analysisArbitrary = fc.oneof(
  fc.record({ stepWeight: fc.integer({ min: 1, max: 60 }), maxWeight: fc.integer({ min: 1, max: 100 }) }),
  fc
    .uniqueArray(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 6 })
    .map((weights) => ({ stepWeights: weights.sort((a, b) => a - b) })),
  fc.record({ iterations: fc.integer({ min: 1, max: 4 }), mirror: fc.boolean() }),
  fc.record({
    iterations: fc.integer({ min: 1, max: 4 }),
    match: fc.constant(AB_MATCH),
  }),
);

const specArbitrary = fc
  .record({
    analysis: analysisArbitrary,
    threshold: fc.integer({ min: 1, max: 4 }),
    stepWeightPromotion: fc.option(fc.integer({ min: 1, max: 60 }), { nil: undefined }),
    progressDeadlineSeconds: fc.constantFrom(120, 600),
  })
  .map(({ analysis, threshold, stepWeightPromotion, progressDeadlineSeconds }): ScenarioApp =>
    appSpec({
      canary: {
        progressDeadlineSeconds,
        analysis: {
          interval: '1m',
          threshold,
          ...analysis,
          ...(stepWeightPromotion === undefined ? {} : { stepWeightPromotion }),
          metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 } }],
          webhooks: HOOK_TYPES.map((type) => ({ name: type, type, url: HOOK })),
        },
      },
    }),
  );

const commandArbitrary: fc.Arbitrary<OperatorCommand> = fc.oneof(
  fc.constant<OperatorCommand>({ kind: 'pause' }),
  fc.constant<OperatorCommand>({ kind: 'resume' }),
  fc.constant<OperatorCommand>({ kind: 'promote' }),
  fc.constant<OperatorCommand>({ kind: 'abort' }),
  fc
    .integer({ min: -10, max: 120 })
    .map((canaryWeight): OperatorCommand => ({ kind: 'set-weights', canaryWeight })),
);

/** Mostly a healthy world, with the occasional failure, gap in data, slow canary, command or new revision. */
const worldArbitrary = fc.record({
  after: fc.oneof(
    { weight: 8, arbitrary: fc.constant(60_000) },
    { weight: 2, arbitrary: fc.constantFrom(0, 1_000, 30_000) },
    { weight: 1, arbitrary: fc.constant(200_000) },
  ),
  canaryReady: fc.oneof(
    { weight: 8, arbitrary: fc.constant(true) },
    { weight: 1, arbitrary: fc.constant(false) },
  ),
  metric: fc.oneof(
    { weight: 8, arbitrary: fc.constant('pass') },
    { weight: 1, arbitrary: fc.constantFrom('fail', 'no-data') },
  ),
  failingHook: fc.oneof(
    { weight: 10, arbitrary: fc.constant(undefined) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('pre-rollout', 'rollout', 'confirm-traffic-increase', 'confirm-promotion'),
    },
  ),
  command: fc.oneof(
    { weight: 10, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: commandArbitrary },
  ),
  newRevision: fc.oneof(
    { weight: 15, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  ),
});

describe('step invariants under random environments', () => {
  it('keeps weights in range, monotone and under maxWeight, and never lacks a result it asked for', () => {
    fc.assert(
      fc.property(
        specArbitrary,
        fc.array(worldArbitrary, { minLength: 5, maxLength: 40 }),
        (spec, worlds) => {
          const sim = new RolloutSimulator(spec);
          sim.runUntil((s) => s.phase === 'Initialized');
          let version = 2;
          sim.spec = appSpec({
            canary: spec.canary,
            process: { command: 'node', env: { VERSION: String(version) } },
          });
          let manual = false;
          for (const world of worlds) {
            if (world.newRevision) {
              version += 1;
              sim.spec = appSpec({
                canary: spec.canary,
                process: { command: 'node', env: { VERSION: String(version) } },
              });
            }
            sim.hooks.clear();
            if (world.failingHook !== undefined) sim.hooks.set(world.failingHook, 'HTTP 503');
            sim.metrics.clear();
            if (world.metric === 'fail')
              sim.metrics.set('request-success-rate', { value: 90, sampleSize: 500, passed: false });
            if (world.metric === 'no-data')
              sim.metrics.set('request-success-rate', { value: null, passed: false });
            if (sim.canary.revision !== null)
              sim.canary = { ...sim.canary, readyReplicas: world.canaryReady ? sim.canary.replicas : 0 };

            const before = sim.status!;
            const tick = sim.tick({
              after: world.after,
              commands: world.command === undefined ? [] : [world.command],
            });
            const after = tick.status;
            const a = spec.canary.analysis;

            for (const action of tick.actions) {
              if (action.kind === 'set-routes') {
                expect(action.primaryWeight + action.canaryWeight).toBe(100);
                expect(action.canaryWeight).toBeGreaterThanOrEqual(0);
                expect(action.canaryWeight).toBeLessThanOrEqual(100);
              }
              if (action.kind === 'event') expect(action.message).not.toContain('no result for');
            }
            expect(after.canaryWeight).toBeGreaterThanOrEqual(0);
            expect(after.canaryWeight).toBeLessThanOrEqual(100);
            expect(after.failedChecks).toBeLessThanOrEqual(a.threshold);

            // A weight set by hand may exceed maxWeight until the next analysis starts.
            if (world.command?.kind === 'set-weights') manual = true;
            else if (after.lastAppliedSpec !== before.lastAppliedSpec) manual = false;
            const analysing = (p: string) => (ANALYSIS_PHASES as readonly string[]).includes(p);
            if (strategyOf(a) === 'canary' && analysing(after.phase) && !manual) {
              expect(after.canaryWeight).toBeLessThanOrEqual(a.maxWeight);
            }
            const sameAnalysis =
              analysing(before.phase) &&
              analysing(after.phase) &&
              before.lastAppliedSpec === after.lastAppliedSpec;
            if (sameAnalysis && world.command === undefined) {
              expect(after.canaryWeight).toBeGreaterThanOrEqual(before.canaryWeight);
              expect(after.iterations).toBeGreaterThanOrEqual(before.iterations);
            }
            if (after.phase === 'Failed' || after.phase === 'Succeeded') {
              expect([after.canaryWeight, after.canaryRevision, after.mirror]).toEqual([0, null, false]);
            }
            if (after.phase === 'Succeeded') expect(after.lastPromotedSpec).toBe(after.primaryRevision);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
