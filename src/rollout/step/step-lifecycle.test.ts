import { describe, expect, it } from 'vitest';
import { revisionOf } from '../../target/process/version-spec.js';
import type { ScenarioApp } from '../../../test/support/rollout-scenario.js';
import type { Observations } from './observations.js';
import type { RolloutPhase, RolloutStatus } from './rollout-status.js';
import {
  appSpec,
  observations,
  readyRole,
  rolesOf,
  statusIn,
  summarise,
} from '../../../test/support/rollout-scenario.js';
import { RolloutSimulator } from '../../../test/support/rollout-simulator.js';
import { step, terminate } from './step.js';

const HOOK = 'http://127.0.0.1:8089/';

function specWith(analysis: Record<string, unknown> = {}, canary: Record<string, unknown> = {}): ScenarioApp {
  return appSpec({
    canary: {
      ...canary,
      analysis: { interval: '1m', threshold: 2, stepWeight: 10, maxWeight: 30, ...analysis },
    },
  });
}

const plain = specWith();
const DESIRED = plain.desired.revision;
const gated = specWith({ webhooks: [{ name: 'approval', type: 'confirm-rollout', url: HOOK }] });
const mutedGate = specWith({
  webhooks: [{ name: 'approval', type: 'confirm-rollout', url: HOOK, muteAlert: true }],
});
const skipping = specWith({}, { skipAnalysis: true });
const NOW = 120_000;

const settled = statusIn(plain, 'Succeeded', { failedChecks: 3 });
const closedHook = {
  webhooks: [{ type: 'confirm-rollout', name: 'approval', ok: false, message: 'gate closed' }],
} as const;
const openHook = {
  webhooks: [{ type: 'confirm-rollout', name: 'approval', ok: true, message: 'ok' }],
} as const;

interface Row {
  readonly name: string;
  readonly spec: ScenarioApp;
  readonly status: RolloutStatus | undefined;
  readonly observe?: Partial<Observations>;
  readonly phase: RolloutPhase;
  readonly actions: readonly string[];
  readonly then?: (status: RolloutStatus) => void;
}

const ROWS: readonly Row[] = [
  {
    name: 'a new app deploys its primary with all traffic',
    spec: plain,
    status: undefined,
    phase: 'Initializing',
    actions: ['promote-spec desired', 'routes 100/0', 'event Initializing'],
    then: (s) => expect([s.lastPromotedSpec, s.primaryRevision]).toEqual([null, DESIRED]),
  },
  {
    name: 'Initializing waits while the primary is not ready',
    spec: plain,
    status: statusIn(plain, 'Initializing', { primaryRevision: DESIRED, lastPromotedSpec: null }),
    observe: { primary: { revision: DESIRED, replicas: 1, readyReplicas: 0 } },
    phase: 'Initializing',
    actions: [],
  },
  {
    name: 'Initializing becomes Initialized once the primary is ready',
    spec: plain,
    status: statusIn(plain, 'Initializing', { primaryRevision: DESIRED, lastPromotedSpec: null }),
    observe: { primary: readyRole(DESIRED) },
    phase: 'Initialized',
    actions: ['event Initialized'],
    then: (s) => {
      expect(s.lastPromotedSpec).toBe(DESIRED);
      expect(s.promoted).toMatchObject({ status: 'True', reason: 'Initialized' });
    },
  },
  {
    name: 'a settled app with an unchanged revision does nothing',
    spec: plain,
    status: statusIn(plain, 'Succeeded', {
      lastAppliedSpec: DESIRED,
      lastPromotedSpec: DESIRED,
      primaryRevision: DESIRED,
    }),
    observe: { primary: readyRole(DESIRED) },
    phase: 'Succeeded',
    actions: [],
  },
  {
    name: 'a new revision scales the canary up and starts Progressing',
    spec: plain,
    status: settled,
    phase: 'Progressing',
    actions: [
      'alert info: New revision detected, progressing canary analysis.',
      'event NewRevision',
      'start-canary desired',
    ],
    then: (s) => {
      expect(s).toMatchObject({
        failedChecks: 0,
        iterations: 0,
        canaryWeight: 0,
        lastAppliedSpec: DESIRED,
        canaryRevision: DESIRED,
      });
      expect(s.nextCheckAt).toBe(NOW + 60_000);
      expect(s.lastProgressTime).toBe(NOW);
    },
  },
  {
    name: 'a closed confirm-rollout hook holds in Waiting without a failed check',
    spec: gated,
    status: settled,
    observe: { checks: { ...closedHook, metrics: [] } },
    phase: 'Waiting',
    actions: ['alert warn: Canary is waiting for approval.', 'event WaitingForApproval'],
    then: (s) => expect([s.failedChecks, s.canaryRevision, s.lastAppliedSpec]).toEqual([3, null, DESIRED]),
  },
  {
    name: 'a muted confirm-rollout hook holds without an alert',
    spec: mutedGate,
    status: settled,
    observe: { checks: { ...closedHook, metrics: [] } },
    phase: 'Waiting',
    actions: ['event WaitingForApproval'],
  },
  {
    name: 'a closed built-in gate (aviary:gate) holds in Waiting',
    spec: specWith({ webhooks: [{ name: 'approval', type: 'confirm-rollout', url: 'aviary:gate' }] }),
    status: settled,
    observe: { checks: { ...closedHook, metrics: [] } },
    phase: 'Waiting',
    actions: ['alert warn: Canary is waiting for approval.', 'event WaitingForApproval'],
  },
  {
    name: 'confirm-rollout hooks wait for the next check tick',
    spec: gated,
    status: statusIn(gated, 'Succeeded', { nextCheckAt: NOW + 1 }),
    phase: 'Succeeded',
    actions: [],
  },
  {
    name: 'Waiting stays Waiting, without a second alert, while the gate is closed',
    spec: gated,
    status: statusIn(gated, 'Waiting'),
    observe: { checks: { ...closedHook, metrics: [] } },
    phase: 'Waiting',
    actions: ['event WaitingForApproval'],
  },
  {
    name: 'Waiting starts the rollout once approved',
    spec: gated,
    status: statusIn(gated, 'Waiting'),
    observe: { checks: { ...openHook, metrics: [] } },
    phase: 'Progressing',
    actions: [
      'event RolloutApproved',
      'alert info: New revision detected, progressing canary analysis.',
      'event NewRevision',
      'start-canary desired',
    ],
  },
  {
    name: 'Waiting settles when the desired revision is the primary one again',
    spec: appSpec({ process: { command: 'node', args: ['server.js'], env: { VERSION: '1' } } }),
    status: statusIn(plain, 'Waiting', {
      lastPromotedSpec: revisionOf({ command: 'node', args: ['server.js'], env: { VERSION: '1' } }),
    }),
    phase: 'Succeeded',
    actions: ['event Reverted'],
  },
  {
    name: 'Failed with the failed revision still desired does nothing',
    spec: plain,
    status: statusIn(plain, 'Failed'),
    phase: 'Failed',
    actions: [],
  },
  {
    name: 'Failed with another revision starts a new analysis',
    spec: plain,
    status: statusIn(plain, 'Failed', { lastAppliedSpec: 'bad123bad123', failedChecks: 2 }),
    phase: 'Progressing',
    actions: [
      'alert info: New revision detected, progressing canary analysis.',
      'event NewRevision',
      'start-canary desired',
    ],
    then: (s) => expect(s.failedChecks).toBe(0),
  },
  {
    name: 'skipAnalysis promotes a new revision straight away',
    spec: skipping,
    status: statusIn(skipping, 'Succeeded'),
    phase: 'Promoting',
    actions: [
      'alert info: New revision detected, progressing canary analysis.',
      'event NewRevision',
      'promote-spec desired',
      'event Promoting',
    ],
    then: (s) =>
      expect([s.promotion, s.primaryRevision, s.canaryRevision]).toEqual(['skip-analysis', DESIRED, null]),
  },
  {
    name: 'a replica change scales the role that runs its revision',
    spec: appSpec({ process: { command: 'node', args: ['server.js'], env: { VERSION: '2' }, replicas: 3 } }),
    status: statusIn(plain, 'Succeeded', {
      lastAppliedSpec: DESIRED,
      lastPromotedSpec: DESIRED,
      primaryRevision: DESIRED,
    }),
    observe: { primary: readyRole(DESIRED, 1) },
    phase: 'Succeeded',
    actions: ['scale primary 3', 'event Scaled'],
  },
];

describe('step: lifecycle transitions', () => {
  it.each(ROWS)('$name', (row) => {
    const roles = row.status === undefined ? {} : rolesOf(row.status);
    const result = step(row.spec, row.status, observations({ ...roles, ...row.observe }), NOW);
    expect(summarise(row.spec, result.actions)).toEqual(row.actions);
    expect(result.status.phase).toBe(row.phase);
    row.then?.(result.status);
  });

  it('does nothing at all while suspended, whatever changed', () => {
    const suspended = specWith({}, { suspend: true });
    const status = statusIn(suspended, 'Succeeded');
    const result = step(
      suspended,
      status,
      observations({ ...rolesOf(status), commands: [{ kind: 'pause' }] }),
      NOW,
    );
    expect(result).toEqual({ status, actions: [] });
  });

  it('skipAnalysis runs Promoting → Finalising → Succeeded with the skipped alert', () => {
    const sim = new RolloutSimulator(skipping);
    sim.runUntil((s) => s.phase === 'Initialized');
    sim.spec = appSpec({
      canary: skipping.canary,
      process: { command: 'node', args: ['server.js'], env: { VERSION: '3' } },
    });
    const ticks = sim.runUntil((s) => s.phase === 'Succeeded');
    expect(ticks.map((t) => t.status.phase)).toEqual(['Promoting', 'Finalising', 'Succeeded']);
    expect(summarise(sim.spec, ticks.at(-1)!.actions)).toEqual([
      'event Succeeded',
      'alert info: Canary analysis was skipped, promotion finished.',
    ]);
    expect(sim.primary.revision).toBe(sim.spec.desired.revision);
    expect(sim.canary.revision).toBeNull();
  });

  it('terminate stops both roles', () => {
    const status = statusIn(plain, 'Progressing');
    const result = terminate(plain, status, NOW);
    expect(summarise(plain, result.actions)).toEqual(['stop canary', 'stop primary', 'event Terminating']);
    expect(result.status.phase).toBe('Terminating');
  });

  it('keeps the Promoted transition time while the condition status is unchanged', () => {
    const status = statusIn(plain, 'Progressing', {
      canaryWeight: 30,
      lastProgressTime: NOW,
      nextCheckAt: NOW,
    });
    const promotionGate = specWith({
      webhooks: [{ name: 'ship', type: 'confirm-promotion', url: 'aviary:gate' }],
    });
    const closed = observations({
      ...rolesOf(status),
      checks: {
        webhooks: [{ type: 'confirm-promotion', name: 'ship', ok: false, message: 'Forbidden' }],
        metrics: [],
      },
    });
    const result = step(promotionGate, status, closed, NOW);
    expect(result.status.phase).toBe('WaitingPromotion');
    expect(result.status.promoted).toMatchObject({
      status: 'Unknown',
      reason: 'WaitingPromotion',
      lastTransitionTime: 0,
    });
    expect(result.status.lastTransitionTime).toBe(NOW);
  });
});
