import { describe, expect, it } from 'vitest';
import { observations, rolesOf } from '../../../test/support/rollout-scenario.js';
import { step } from './step.js';
import { at, DESIRED, itTicks, NOW, spec, specWith, type StepRow } from './step-test-support.js';

const ROLLBACK = ['routes 100/0', 'stop canary', 'hooks post-rollout', 'event Failed'];
const failingMetric = { value: 97.5, sampleSize: 400, passed: false, detail: '97.5 < 99' };

const ROWS: readonly StepRow[] = [
  {
    name: 'pre-rollout hooks pass at weight 0: first step',
    status: at('Progressing'),
    phase: 'Progressing',
    actions: ['routes 90/10', 'event WeightAdvanced'],
    then: (s) => expect([s.canaryWeight, s.lastProgressTime, s.nextCheckAt]).toEqual([10, NOW, NOW + 60_000]),
  },
  {
    name: 'a pre-rollout failure counts as a failed check',
    status: at('Progressing'),
    setup: (sim) => sim.hooks.set('smoke', 'HTTP 500: migration not applied'),
    phase: 'Progressing',
    actions: ['event PreRolloutFailed'],
    then: (s) => expect([s.failedChecks, s.canaryWeight]).toEqual([1, 0]),
  },
  {
    name: 'a failed metric counts and blocks the advance',
    status: at('Progressing', { canaryWeight: 10 }),
    setup: (sim) => sim.metrics.set('request-success-rate', failingMetric),
    phase: 'Progressing',
    actions: ['event ChecksFailed'],
    then: (s) => expect([s.failedChecks, s.canaryWeight]).toEqual([1, 10]),
  },
  {
    name: 'a failed rollout hook counts and blocks the advance',
    status: at('Progressing', { canaryWeight: 10 }),
    setup: (sim) => sim.hooks.set('load', 'load generator unreachable'),
    phase: 'Progressing',
    actions: ['event ChecksFailed'],
    then: (s) => expect(s.failedChecks).toBe(1),
  },
  {
    name: 'reaching the threshold rolls back in the same tick',
    status: at('Progressing', { canaryWeight: 20, failedChecks: 1 }),
    setup: (sim) => sim.metrics.set('request-success-rate', failingMetric),
    phase: 'Failed',
    actions: [
      'event ChecksFailed',
      'event ThresholdReached',
      'alert error: Failed checks threshold reached 2',
      ...ROLLBACK,
    ],
    then: (s) => {
      expect(s).toMatchObject({
        canaryWeight: 0,
        canaryRevision: null,
        failedChecks: 2,
        lastAppliedSpec: DESIRED,
      });
      expect(s.promoted).toMatchObject({ status: 'False', reason: 'Failed' });
    },
  },
  {
    name: 'a threshold already reached rolls back at once, between check ticks too',
    status: at('Progressing', { canaryWeight: 20, failedChecks: 2, nextCheckAt: NOW + 30_000 }),
    phase: 'Failed',
    actions: ['event ThresholdReached', 'alert error: Failed checks threshold reached 2', ...ROLLBACK],
  },
  {
    name: 'a passed progress deadline rolls back, naming what was awaited',
    status: at('Progressing', { canaryWeight: 10, lastProgressTime: NOW - 600_001 }),
    setup: (sim) => (sim.canary = { revision: DESIRED, replicas: 1, readyReplicas: 0 }),
    phase: 'Failed',
    actions: [
      'event DeadlineExceeded',
      'alert error: Progress deadline exceeded (no progress for 10m: canary 0/1 ready)',
      ...ROLLBACK,
    ],
  },
  {
    name: 'a canary that is not ready holds without a failed check or progress',
    status: at('Progressing', { canaryWeight: 10 }),
    setup: (sim) => (sim.canary = { revision: DESIRED, replicas: 1, readyReplicas: 0 }),
    phase: 'Progressing',
    actions: ['event NotReady'],
    then: (s) =>
      expect([s.failedChecks, s.lastProgressTime, s.nextCheckAt]).toEqual([0, NOW - 60_000, NOW + 60_000]),
  },
  {
    name: 'a rollback hook answering 2xx rolls back',
    status: at('Progressing', { canaryWeight: 10 }),
    setup: (sim) => sim.hooks.set('undo', true),
    phase: 'Failed',
    actions: ['event RollbackRequested', 'alert warn: Rolling back manual webhook invoked', ...ROLLBACK],
  },
  {
    name: 'an open built-in rollback gate (aviary:gate) rolls back',
    spec: specWith({ webhooks: [{ name: 'operator', type: 'rollback', url: 'aviary:gate' }] }),
    status: at('WaitingPromotion', { canaryWeight: 30 }),
    setup: (sim) => sim.hooks.set('operator', true),
    phase: 'Failed',
    actions: [
      'event RollbackRequested',
      'alert warn: Rolling back manual webhook invoked',
      'routes 100/0',
      'stop canary',
      'event Failed',
    ],
  },
  {
    name: 'a closed confirm-traffic-increase gate holds without a failed check',
    status: at('Progressing', { canaryWeight: 10 }),
    setup: (sim) => sim.hooks.set('more', 'not yet'),
    phase: 'Progressing',
    actions: ['event WaitingForTrafficIncrease'],
    then: (s) => expect([s.canaryWeight, s.failedChecks, s.lastProgressTime]).toEqual([10, 0, NOW]),
  },
  {
    name: 'at maxWeight a closed confirm-promotion gate moves to WaitingPromotion',
    status: at('Progressing', { canaryWeight: 30 }),
    setup: (sim) => sim.hooks.set('ship', 'waiting for sign-off'),
    phase: 'WaitingPromotion',
    actions: ['alert warn: Canary promotion is waiting for approval.', 'event WaitingForPromotion'],
    then: (s) => expect(s.canaryWeight).toBe(30),
  },
  {
    name: 'WaitingPromotion goes on analysing: a failed metric counts',
    status: at('WaitingPromotion', { canaryWeight: 30 }),
    setup: (sim) => sim.metrics.set('request-success-rate', failingMetric),
    phase: 'WaitingPromotion',
    actions: ['event ChecksFailed'],
    then: (s) => expect(s.failedChecks).toBe(1),
  },
  {
    name: 'WaitingPromotion promotes once approved',
    status: at('WaitingPromotion', { canaryWeight: 30 }),
    phase: 'Promoting',
    actions: ['promote-spec desired', 'event Promoting'],
    then: (s) => expect([s.primaryRevision, s.promotion, s.canaryWeight]).toEqual([DESIRED, 'analysis', 30]),
  },
  {
    name: 'between check ticks nothing happens',
    status: at('Progressing', { canaryWeight: 10, nextCheckAt: NOW + 1 }),
    phase: 'Progressing',
    actions: [],
  },
  {
    name: 'a new revision during the analysis resets weight, failed checks and iterations',
    status: at('WaitingPromotion', {
      canaryWeight: 30,
      failedChecks: 1,
      iterations: 2,
      lastAppliedSpec: 'c0ffeec0ffee',
      canaryRevision: 'c0ffeec0ffee',
    }),
    phase: 'Progressing',
    actions: ['routes 100/0', 'start-canary desired', 'event Restarted'],
    then: (s) =>
      expect(s).toMatchObject({
        canaryWeight: 0,
        failedChecks: 0,
        iterations: 0,
        lastAppliedSpec: DESIRED,
        canaryRevision: DESIRED,
        lastProgressTime: NOW,
      }),
  },
  {
    name: 'no data holds the step without a failed check (Aviary default)',
    status: at('Progressing', { canaryWeight: 10 }),
    setup: (sim) => sim.metrics.set('request-success-rate', { value: null, passed: false }),
    phase: 'Progressing',
    actions: ['event InsufficientData'],
    then: (s) => expect([s.failedChecks, s.canaryWeight, s.lastProgressTime]).toEqual([0, 10, NOW - 60_000]),
  },
  {
    name: 'fewer requests than minRequests hold too',
    status: at('Progressing', { canaryWeight: 10 }),
    setup: (sim) => sim.metrics.set('request-success-rate', { value: 100, sampleSize: 9, passed: true }),
    phase: 'Progressing',
    actions: ['event InsufficientData'],
  },
  {
    name: 'failOnNoData makes no data a failed check (Flagger behaviour)',
    spec: specWith({
      metrics: [{ name: 'request-success-rate', thresholdRange: { min: 99 }, failOnNoData: true }],
    }),
    status: at('Progressing', { canaryWeight: 10 }),
    setup: (sim) => sim.metrics.set('request-success-rate', { value: null, passed: false }),
    phase: 'Progressing',
    actions: ['event ChecksFailed'],
    then: (s) => expect(s.failedChecks).toBe(1),
  },
  {
    name: 'a failed metric query counts as a failed check',
    status: at('Progressing', { canaryWeight: 10 }),
    setup: (sim) =>
      sim.metrics.set('request-success-rate', { value: null, passed: false, error: 'connection refused' }),
    phase: 'Progressing',
    actions: ['event ChecksFailed'],
  },
];

describe('step: analysis transitions', () => {
  itTicks(ROWS);

  it('fails closed when a required result is missing', () => {
    const status = at('Progressing', { canaryWeight: 10 });
    const result = step(spec, status, observations(rolesOf(status)), NOW);
    expect(result.status.failedChecks).toBe(1);
    expect(result.actions).toContainEqual(
      expect.objectContaining({
        reason: 'ChecksFailed',
        message: expect.stringContaining('no result for rollout webhook load'),
      }),
    );
  });
});
