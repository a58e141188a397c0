/**
 * The working copy of one `step` call: a mutable copy of the status plus the actions
 * decided so far. Every phase change, route change and clock update goes through here,
 * so the bookkeeping (Promoted condition, lastTransitionTime, set-routes only on change)
 * is written once. Nothing outside `step` sees a draft.
 */
import type { AlertSeverity, AppSpec } from '../../config/app-schema.js';
import type { RolloutSpec } from './rollout-spec.js';
import type { EventReason, RolloutAction, StepResult } from './actions.js';
import type { Observations } from './observations.js';
import { promotedCondition, type RolloutPhase, type RolloutStatus } from './rollout-status.js';
import { baselineWeight, TOTAL_WEIGHT } from './weights.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Route options besides the canary weight. */
export interface RouteOptions {
  readonly mirror?: boolean;
  readonly abTesting?: boolean;
}

/** The working copy of one `step` call (internal to the state machine). */
export class StepDraft {
  readonly status: Mutable<RolloutStatus>;
  readonly actions: RolloutAction[] = [];
  /**
   * Whether this call is a check tick: one interval after the last one, not paused before,
   * and carrying no operator command. Commands change which checks a tick needs (a new
   * weight, a resumed rollout), so the call that applies them leaves the checks to the next.
   */
  readonly due: boolean;

  constructor(
    readonly spec: RolloutSpec,
    previous: RolloutStatus,
    readonly observations: Observations,
    readonly now: number,
    /** Revision of the desired version. */
    readonly revision: string,
  ) {
    this.status = { ...previous };
    this.due = !previous.paused && observations.commands.length === 0 && now >= previous.nextCheckAt;
  }

  get analysis(): AppSpec['canary']['analysis'] {
    return this.spec.canary.analysis;
  }

  get name(): string {
    return this.spec.name;
  }

  event(reason: EventReason, message: string, severity: 'info' | 'warning' = 'info'): void {
    this.actions.push({ kind: 'event', reason, message, severity });
  }

  alert(severity: AlertSeverity, message: string): void {
    this.actions.push({ kind: 'alert', severity, message });
  }

  act(action: RolloutAction): void {
    this.actions.push(action);
  }

  setPhase(phase: RolloutPhase, conditionMessage?: string): void {
    if (this.status.phase === phase && conditionMessage === undefined) return;
    if (this.status.phase !== phase) this.status.lastTransitionTime = this.now;
    this.status.phase = phase;
    this.status.promoted = promotedCondition(phase, this.status.promoted, this.now, conditionMessage);
  }

  /** Routes `canaryWeight` % to the canary (the rest to the primary); emits set-routes only on change. */
  route(canaryWeight: number, options: RouteOptions = {}): void {
    const mirror = options.mirror ?? false;
    const abTesting = options.abTesting ?? false;
    const s = this.status;
    if (s.canaryWeight === canaryWeight && s.mirror === mirror && s.abTesting === abTesting) return;
    s.canaryWeight = canaryWeight;
    s.mirror = mirror;
    s.abTesting = abTesting;
    this.emitRoutes();
  }

  /**
   * Starts a fresh baseline running the primary's revision with as many replicas as the canary
   * (`analysis.baseline: fresh`, docs/adr/0018-fresh-baseline.md). From the next route on, it
   * gets the canary's weight.
   */
  startBaseline(): void {
    const s = this.status;
    this.act({ kind: 'start-baseline', revision: s.primaryRevision, replicas: this.spec.desired.replicas });
    s.baselineRevision = s.primaryRevision;
    if (s.canaryWeight > 0) this.emitRoutes();
    this.event(
      'BaselineStarted',
      `Starting a fresh baseline of ${this.name} with the primary's revision ${s.primaryRevision}: the judge compares the canary with it`,
    );
  }

  /** Stops the fresh baseline, if one runs: its traffic goes back to the primary first. */
  stopBaseline(): void {
    const s = this.status;
    if (s.baselineRevision === undefined || s.baselineRevision === null) return;
    const routed = this.routedBaselineWeight() > 0;
    s.baselineRevision = null;
    if (routed) this.emitRoutes();
    this.act({ kind: 'stop', role: 'baseline' });
    this.event('BaselineStopped', `Stopping the fresh baseline of ${this.name}`);
  }

  /** The baseline's share of the current routes: the canary's weight on a plain weighted route. */
  private routedBaselineWeight(): number {
    const s = this.status;
    const running = s.baselineRevision !== undefined && s.baselineRevision !== null;
    return baselineWeight(s.canaryWeight, running && !s.mirror && !s.abTesting);
  }

  private emitRoutes(): void {
    const s = this.status;
    const running = s.baselineRevision !== undefined && s.baselineRevision !== null;
    const baseline = this.routedBaselineWeight();
    this.actions.push({
      kind: 'set-routes',
      primaryWeight: TOTAL_WEIGHT - s.canaryWeight - baseline,
      canaryWeight: s.canaryWeight,
      ...(running ? { baselineWeight: baseline } : {}),
      mirror: s.mirror,
      ...(s.mirror ? { mirrorWeight: this.analysis.mirrorWeight } : {}),
      abTesting: s.abTesting,
    });
  }

  /** Restarts the progress-deadline clock: this call decided something. */
  progressed(): void {
    this.status.lastProgressTime = this.now;
  }

  /** Marks this call as the check tick of the current interval. */
  consumeCheckTick(): void {
    this.status.nextCheckAt = this.now + this.analysis.interval;
  }

  /** Whether the rollout made no progress for longer than `progressDeadlineSeconds`. */
  deadlineExceeded(): boolean {
    return this.now - this.status.lastProgressTime > this.spec.canary.progressDeadlineSeconds * 1000;
  }

  result(): StepResult {
    return { status: { ...this.status }, actions: [...this.actions] };
  }
}
