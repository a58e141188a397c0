/**
 * What the scheduler observes before each call of `step`: the processes of each role, the
 * results of the checks `requiredChecks` asked for, and the operator's queued commands.
 * Flagger calls hooks and queries metrics inside its tick; here they are run at the edge and
 * handed in as data, so the state machine stays a pure function. Manual gates arrive as hook
 * results: a gate is a confirm-* or rollback webhook whose URL is `aviary:gate`, answered
 * in-process from the control API's gate store (gates-webhook.ts), so a gate holds only
 * where the spec asks for one, with the load tester's semantics.
 */
import type { WebhookType } from '../../config/app-schema.js';

/**
 * The versions of an app that run side by side during a rollout: the primary, the canary and,
 * with `analysis.baseline: fresh`, a new copy of the primary's revision the judge compares the
 * canary with (docs/adr/0018-fresh-baseline.md).
 */
export type Role = 'primary' | 'canary' | 'baseline';

/** What runs for one role. */
export interface RoleObservation {
  /** Revision the serving processes run; null when none runs (scaled to zero). */
  readonly revision: string | null;
  /** Processes the role is set to run. */
  readonly replicas: number;
  /** Processes of that revision that pass their readiness probe. */
  readonly readyReplicas: number;
}

/**
 * Result of one webhook call (Flagger: a status above 202 or a transport error is a failure).
 * From a `runWebhookStage` outcome: `calls.map(({hook, result}) => ({type: stage.type,
 * name: hook.name, ok: result.ok, message: result.message}))`. A stage stops at its first
 * failure, so hooks after it have no result; `step` never looks past that failure.
 */
export interface HookResult {
  readonly type: WebhookType;
  readonly name: string;
  readonly ok: boolean;
  /** Error text (the response body on failure) or a short success note. */
  readonly message: string;
}

/** Result of one metric check for this tick. */
export interface MetricResult {
  readonly name: string;
  /** The measured value, or null when the provider found no data ("no values found"). */
  readonly value: number | null;
  /** Requests the value is based on; leave out when the provider cannot tell (templated queries). */
  readonly sampleSize?: number;
  /**
   * The judge only: requests its reference (the primary, or the fresh baseline) served over
   * the span `sampleSize` counts the canary's. With the weights it tells the step how many
   * canary requests were due, so a canary silent at low traffic is not taken for a stall.
   */
  readonly referenceSampleSize?: number;
  /** Verdict of the analysis on `value` (threshold range or statistical test). Ignored without a value. */
  readonly passed: boolean;
  /** Set when the query itself failed (provider unreachable, bad query): a failed check, as in Flagger. */
  readonly error?: string;
  /** Human-readable detail for events, e.g. `99.2 < 99.5`. */
  readonly detail?: string;
  /**
   * What the value rests on, as plain JSON for events, the API and the dashboard: the query
   * and provider of a templated metric, the counts, bounds and e-values of the judge.
   */
  readonly evidence?: unknown;
  /**
   * The check proved a regression and asks for a rollback now, without waiting for
   * `threshold` failed checks (the sequential judge at level α).
   */
  readonly rollback?: boolean;
  /** With `rollback`: the canary traffic the proof took, for the rollback event. */
  readonly proof?: RegressionProof;
}

/** How much canary traffic a regression's proof took, since the analysis of the canary began. */
export interface RegressionProof {
  readonly canaryRequests: number;
  /** Canary traffic looked at, in ms (whole seconds of the router's counts). */
  readonly canaryMs: number;
}

/** Results of the checks run for this tick; results for checks that were not asked are ignored. */
export interface CheckResults {
  readonly webhooks: readonly HookResult[];
  readonly metrics: readonly MetricResult[];
}

/** A command queued through the control API, applied at the start of the next `step`. */
export type OperatorCommand =
  /** Skip the remaining steps and gates: promote the canary now. */
  | { readonly kind: 'promote' }
  /** Roll back at once. */
  | { readonly kind: 'abort'; readonly reason?: string }
  /** Hold the rollout where it is: no checks, no steps, no deadline. */
  | { readonly kind: 'pause' }
  | { readonly kind: 'resume' }
  /** Route this share (0–100) to the canary by hand; the analysis continues from there. */
  | { readonly kind: 'set-weights'; readonly canaryWeight: number };

/** Everything `step` needs from the outside world for one tick. */
export interface Observations {
  readonly primary: RoleObservation;
  readonly canary: RoleObservation;
  /** The fresh baseline (`analysis.baseline: fresh`); left out, or NOT_RUNNING, when none runs. */
  readonly baseline?: RoleObservation;
  readonly checks: CheckResults;
  /**
   * Results of the looks run between check ticks (the judge every `judge.lookInterval`,
   * judge-looks.ts). A look can only roll back: `step` reads their `rollback` and nothing
   * else, on any call in an analysis phase.
   */
  readonly looks?: readonly MetricResult[];
  readonly commands: readonly OperatorCommand[];
}

/** No processes running for a role. */
export const NOT_RUNNING: RoleObservation = { revision: null, replicas: 0, readyReplicas: 0 };

/** No check results (nothing was due). */
export const NO_CHECKS: CheckResults = { webhooks: [], metrics: [] };
