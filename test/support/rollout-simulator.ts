/**
 * A dry run of the rollout state machine: an in-memory edge that executes the actions
 * (processes start ready at once unless told otherwise, routes are recorded) and answers
 * the required checks from a table (every check passes unless set otherwise). Used by the
 * tests to drive whole rollouts with a fake clock, and usable to preview a spec's timeline.
 */
import type { RolloutSpec } from '../../src/rollout/step/rollout-spec.js';
import type { RolloutAction, StepResult } from '../../src/rollout/step/actions.js';
import {
  NOT_RUNNING,
  type HookResult,
  type MetricResult,
  type OperatorCommand,
  type RoleObservation,
} from '../../src/rollout/step/observations.js';
import { requiredChecks, type RequiredChecks } from '../../src/rollout/step/required-checks.js';
import type { RolloutStatus } from '../../src/rollout/step/rollout-status.js';
import { step } from '../../src/rollout/step/step.js';

/** What one simulated tick asked for and decided. */
export interface SimulatedTick extends StepResult {
  readonly now: number;
  readonly required: RequiredChecks;
}

/** Options of {@link RolloutSimulator.tick}. */
export interface TickOptions {
  /** Milliseconds since the previous tick; default the analysis interval (0 for the first tick). */
  readonly after?: number;
  readonly commands?: readonly OperatorCommand[];
}

/**
 * Drives `requiredChecks` and `step` the way the scheduler does, against the in-memory edge.
 * Mutate `spec` for a new revision, `hooks`/`metrics` for check answers, `primary`/`canary`
 * for readiness; `now` only moves through {@link RolloutSimulator.tick}.
 */
export class RolloutSimulator {
  status: RolloutStatus | undefined;
  now: number;
  primary: RoleObservation = NOT_RUNNING;
  canary: RoleObservation = NOT_RUNNING;
  /** The fresh baseline (`analysis.baseline: fresh`). */
  baseline: RoleObservation = NOT_RUNNING;
  /** When false, started processes report no ready replica until set by hand. */
  autoReady = true;
  /** Webhook answers by name; a hook not listed answers OK (rollback hooks: not OK). A string is a failure message. */
  readonly hooks = new Map<string, true | string>();
  /** Metric answers by name; a metric not listed passes with 1000 requests. */
  readonly metrics = new Map<string, Omit<MetricResult, 'name'>>();
  /** Last routes set, as primary/canary (and baseline) weights. */
  routes: {
    primaryWeight: number;
    canaryWeight: number;
    baselineWeight?: number;
    mirror: boolean;
    abTesting: boolean;
  } = {
    primaryWeight: 100,
    canaryWeight: 0,
    mirror: false,
    abTesting: false,
  };
  readonly history: SimulatedTick[] = [];
  private started = false;

  constructor(
    public spec: RolloutSpec,
    start = 1_000_000,
  ) {
    this.now = start;
  }

  /** Observes, runs the required checks from the tables, steps, and executes the actions. */
  tick(options: TickOptions = {}): SimulatedTick {
    this.now += options.after ?? (this.started ? this.spec.canary.analysis.interval : 0);
    this.started = true;
    const roles = { primary: this.primary, canary: this.canary, baseline: this.baseline };
    const required = requiredChecks(this.spec, this.status, this.now, roles);
    const webhooks: HookResult[] = [];
    for (const stage of required.hookStages) {
      for (const hook of stage.hooks) {
        // A rollback hook that answers OK asks for a rollback, so its neutral answer is a refusal.
        const answer =
          this.hooks.get(hook.name) ?? (stage.type === 'rollback' ? 'no rollback requested' : true);
        webhooks.push({
          type: stage.type,
          name: hook.name,
          ok: answer === true,
          message: answer === true ? 'ok' : answer,
        });
        // Like runWebhookStage: a stage stops at its first failure (rollback: at its first OK).
        if ((answer === true) === (stage.type === 'rollback')) break;
      }
    }
    const metrics: MetricResult[] = required.metrics.map((metric) => ({
      name: metric.name,
      ...(this.metrics.get(metric.name) ?? { value: 100, sampleSize: 1000, passed: true }),
    }));
    const input = {
      ...roles,
      checks: { webhooks, metrics },
      commands: options.commands ?? [],
    };
    const result = step(this.spec, this.status, input, this.now);
    result.actions.forEach((action) => this.execute(action));
    this.status = result.status;
    const tick = { ...result, now: this.now, required };
    this.history.push(tick);
    return tick;
  }

  /** Ticks until `done` holds for the status, at most `limit` times; returns the ticks taken. */
  runUntil(done: (status: RolloutStatus) => boolean, limit = 200): SimulatedTick[] {
    const ticks: SimulatedTick[] = [];
    while (ticks.length < limit) {
      ticks.push(this.tick());
      if (this.status !== undefined && done(this.status)) return ticks;
    }
    throw new Error(
      `rollout did not reach the expected status in ${limit} ticks: ${JSON.stringify(this.status)}`,
    );
  }

  private role(revision: string, replicas: number): RoleObservation {
    return { revision, replicas, readyReplicas: this.autoReady ? replicas : 0 };
  }

  private execute(action: RolloutAction): void {
    switch (action.kind) {
      case 'promote-spec':
        this.primary = this.role(action.revision, action.replicas);
        return;
      case 'start-canary':
        this.canary = this.role(action.revision, action.replicas);
        return;
      case 'start-baseline':
        this.baseline = this.role(action.revision, action.replicas);
        return;
      case 'scale':
        this[action.role] = {
          ...this[action.role],
          replicas: action.replicas,
          readyReplicas: this.autoReady ? action.replicas : 0,
        };
        return;
      case 'stop':
        this[action.role] = NOT_RUNNING;
        return;
      case 'set-routes':
        this.routes = {
          primaryWeight: action.primaryWeight,
          canaryWeight: action.canaryWeight,
          ...(action.baselineWeight !== undefined ? { baselineWeight: action.baselineWeight } : {}),
          mirror: action.mirror,
          abTesting: action.abTesting,
        };
        return;
      default:
        return;
    }
  }
}
