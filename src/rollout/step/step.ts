/**
 * The rollout state machine: a pure function of (spec, status, observations, now) to
 * (new status, actions), implementing the tick of Flagger's canary controller (`advanceCanary`
 * in pkg/controller/scheduler.go).
 * No I/O, no clock, no randomness: the scheduler observes, calls `step`, executes the
 * actions. See docs/adr/0003-rollout-state-machine.md for the contract.
 */
import type { RolloutSpec } from './rollout-spec.js';
import type { StepResult } from './actions.js';
import { gateVerdict, hooksOf, isReady } from './check-verdicts.js';
import { NO_CHECKS, NOT_RUNNING, type Observations, type Role } from './observations.js';
import { applyCommands } from './operator-commands.js';
import { promotedCondition, type RolloutStatus } from './rollout-status.js';
import { analyse } from './step-analysis.js';
import { StepDraft } from './step-draft.js';
import { finalise, promoting } from './step-promotion.js';
import { revertToPrimary, startRollout } from './transitions.js';

/** First call for an app: deploy the desired revision as the primary, all traffic to it. */
function initialise(
  spec: RolloutSpec,
  revision: string,
  observations: Observations,
  now: number,
): StepResult {
  const status: RolloutStatus = {
    phase: 'Initializing',
    canaryWeight: 0,
    mirror: false,
    abTesting: false,
    failedChecks: 0,
    iterations: 0,
    lastAppliedSpec: revision,
    lastPromotedSpec: null,
    primaryRevision: revision,
    canaryRevision: null,
    promoted: promotedCondition('Initializing', undefined, now),
    lastTransitionTime: now,
    lastProgressTime: now,
    nextCheckAt: now,
    paused: false,
  };
  const draft = new StepDraft(spec, status, observations, now, revision);
  if (observations.primary.revision !== revision) {
    draft.act({ kind: 'promote-spec', revision, replicas: spec.desired.replicas });
  }
  draft.act({ kind: 'set-routes', primaryWeight: 100, canaryWeight: 0, mirror: false, abTesting: false });
  if (observations.canary.revision !== null) draft.act({ kind: 'stop', role: 'canary' });
  draft.event('Initializing', `Initializing ${spec.name}: starting primary with revision ${revision}`);
  return draft.result();
}

function initializing(d: StepDraft): void {
  const s = d.status;
  if (d.revision !== s.primaryRevision) {
    d.act({ kind: 'promote-spec', revision: d.revision, replicas: d.spec.desired.replicas });
    s.primaryRevision = d.revision;
    s.lastAppliedSpec = d.revision;
    d.event('Initializing', `Initializing ${d.name}: desired revision changed to ${d.revision}`);
    return;
  }
  if (!isReady(d.observations.primary, s.primaryRevision, d.analysis.primaryReadyThreshold)) return;
  s.lastPromotedSpec = s.primaryRevision;
  d.progressed();
  d.setPhase('Initialized');
  d.event('Initialized', `Initialization done! ${d.name} primary runs revision ${s.primaryRevision}`);
}

/**
 * The confirm-rollout gate of a new revision (Flagger's `runConfirmRolloutHooks`): closed →
 * Waiting, with no failed check counted; open → start. Its hooks are called at most once per
 * interval.
 */
function confirmRollout(d: StepDraft): void {
  const s = d.status;
  if (hooksOf(d.analysis, 'confirm-rollout').length > 0) {
    if (!d.due) return;
    d.consumeCheckTick();
  }
  const gate = gateVerdict(d.analysis, 'confirm-rollout', d.observations);
  if (gate.open) {
    if (s.phase === 'Waiting') d.event('RolloutApproved', `Confirm-rollout check passed for ${d.name}`);
    startRollout(d);
    return;
  }
  if (s.phase !== 'Waiting') {
    s.lastAppliedSpec = d.revision;
    d.setPhase('Waiting');
    if (!gate.muteAlert) d.alert('warn', 'Canary is waiting for approval.');
  }
  d.event(
    'WaitingForApproval',
    `Halt ${d.name} advancement waiting for approval: ${gate.message}`,
    'warning',
  );
}

/** Initialized, Succeeded or Failed: start a rollout when a new revision appears. */
function settled(d: StepDraft): void {
  const s = d.status;
  // Flagger keeps lastAppliedSpec in step with the target even when Failed, so that going
  // back to the promoted spec and then forward to the failed one starts a new analysis.
  if (s.phase === 'Failed' && d.revision === s.lastPromotedSpec) s.lastAppliedSpec = d.revision;
  if (d.revision === s.lastAppliedSpec || d.revision === s.lastPromotedSpec) return;
  confirmRollout(d);
}

function waiting(d: StepDraft): void {
  const s = d.status;
  if (d.revision === s.lastPromotedSpec) return revertToPrimary(d);
  if (d.revision !== s.lastAppliedSpec) {
    d.event(
      'NewRevision',
      `New revision ${d.revision} of ${d.name} replaces ${s.lastAppliedSpec} while waiting for approval`,
    );
    s.lastAppliedSpec = d.revision;
  }
  confirmRollout(d);
}

function advance(d: StepDraft): void {
  switch (d.status.phase) {
    case 'Initializing':
      return initializing(d);
    case 'Initialized':
    case 'Succeeded':
    case 'Failed':
      return settled(d);
    case 'Waiting':
      return waiting(d);
    case 'Progressing':
    case 'WaitingPromotion':
      return analyse(d);
    case 'Promoting':
      return promoting(d);
    case 'Finalising':
      return finalise(d);
    case 'Terminating':
      return;
  }
}

/** Replica count changed in the spec: scale a role that already runs its revision. */
function reconcileReplicas(d: StepDraft): void {
  const s = d.status;
  if (s.phase === 'Initializing' || s.phase === 'Terminating') return;
  const replicas = d.spec.desired.replicas;
  const touched = (role: Role) =>
    d.actions.some(
      (a) =>
        (a.kind === 'promote-spec' && role === 'primary') ||
        (a.kind === 'start-canary' && role === 'canary') ||
        (a.kind === 'start-baseline' && role === 'baseline') ||
        (a.kind === 'stop' && a.role === role),
    );
  const { primary, canary, baseline = NOT_RUNNING } = d.observations;
  if (primary.revision === s.primaryRevision && primary.replicas !== replicas && !touched('primary')) {
    d.act({ kind: 'scale', role: 'primary', replicas });
    d.event('Scaled', `Scaling ${d.name} primary to ${replicas} replicas`);
  }
  if (
    s.canaryRevision !== null &&
    canary.revision === s.canaryRevision &&
    canary.replicas !== replicas &&
    !touched('canary')
  ) {
    d.act({ kind: 'scale', role: 'canary', replicas });
    d.event('Scaled', `Scaling ${d.name} canary to ${replicas} replicas`);
  }
  // The fresh baseline keeps as many replicas as the canary (ADR 0018).
  const baselineRevision = s.baselineRevision ?? null;
  if (
    baselineRevision !== null &&
    baseline.revision === baselineRevision &&
    baseline.replicas !== replicas &&
    !touched('baseline')
  ) {
    d.act({ kind: 'scale', role: 'baseline', replicas });
    d.event('Scaled', `Scaling ${d.name} baseline to ${replicas} replicas`);
  }
}

/**
 * One tick of the rollout of `spec`. `status` is what the previous call returned
 * (undefined for a new app); `observations` were gathered just before, running the checks
 * {@link requiredChecks} asked for; `now` is ms since the epoch. With `suspend: true` an
 * app that already has a status gets no action at all (Flagger's suspend); the control API
 * should refuse commands for it, as they would be dropped.
 */
export function step(
  spec: RolloutSpec,
  status: RolloutStatus | undefined,
  observations: Observations,
  now: number,
): StepResult {
  const revision = spec.desired.revision;
  if (status === undefined) return initialise(spec, revision, observations, now);
  if (spec.canary.suspend) return { status, actions: [] };
  const draft = new StepDraft(spec, status, observations, now, revision);
  applyCommands(draft);
  if (!draft.status.paused) advance(draft);
  reconcileReplicas(draft);
  return draft.result();
}

/**
 * The app was removed from the configuration: stop both roles (Flagger's Terminating).
 * The scheduler drops the app's routes and state once the actions are done.
 */
export function terminate(spec: RolloutSpec, status: RolloutStatus, now: number): StepResult {
  const nothing: Observations = {
    primary: NOT_RUNNING,
    canary: NOT_RUNNING,
    checks: NO_CHECKS,
    commands: [],
  };
  const draft = new StepDraft(spec, status, nothing, now, status.primaryRevision);
  if (status.canaryRevision !== null) draft.act({ kind: 'stop', role: 'canary' });
  draft.stopBaseline();
  draft.act({ kind: 'stop', role: 'primary' });
  draft.setPhase('Terminating');
  draft.event('Terminating', `Removing ${spec.name}: stopping its processes`);
  return draft.result();
}
