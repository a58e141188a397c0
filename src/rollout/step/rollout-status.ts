/**
 * The status of an app's rollout: Flagger's `CanaryStatus` (phase, canaryWeight,
 * failedChecks, iterations, lastAppliedSpec, lastPromotedSpec, a Promoted condition) plus
 * what a pure state machine must carry between ticks instead of reading it back from the
 * cluster (the routes it set, the revision each role runs, the clocks). Plain JSON, so it is
 * stored as is. Phases and condition messages follow Flagger's pkg/canary/status.go.
 */

/** Flagger's canary phases, in the order a successful rollout passes through them. */
export const ROLLOUT_PHASES = [
  'Initializing',
  'Initialized',
  'Waiting',
  'Progressing',
  'WaitingPromotion',
  'Promoting',
  'Finalising',
  'Succeeded',
  'Failed',
  'Terminating',
] as const;

/** One of {@link ROLLOUT_PHASES}. */
export type RolloutPhase = (typeof ROLLOUT_PHASES)[number];

/** Phases in which the primary serves everything and no canary runs; a new revision starts from here. */
export const SETTLED_PHASES: readonly RolloutPhase[] = ['Initialized', 'Succeeded', 'Failed'];

/** Phases in which a canary is being analysed (threshold, deadline and rollback hooks apply). */
export const ANALYSIS_PHASES: readonly RolloutPhase[] = ['Progressing', 'WaitingPromotion'];

/**
 * Why the primary was (or is being) replaced by the canary's revision. `early` appears only in
 * states saved before the judge's early promotion was removed (docs/adr/0015-harm-bounds.md).
 */
export type PromotionCause = 'analysis' | 'skip-analysis' | 'operator' | 'early';

/** Flagger's `Promoted` condition: True once the primary runs the desired revision. */
export interface PromotedCondition {
  readonly type: 'Promoted';
  readonly status: 'True' | 'False' | 'Unknown';
  /** The phase that set the condition. */
  readonly reason: RolloutPhase;
  readonly message: string;
  /** When `status` last changed (ms since the epoch). */
  readonly lastTransitionTime: number;
}

/** Everything the state machine knows about one app between ticks. Times are ms since the epoch. */
export interface RolloutStatus {
  readonly phase: RolloutPhase;
  /** Canary share of the routed traffic, 0–100 (for A/B: of the traffic that matches). */
  readonly canaryWeight: number;
  /** Whether the routes copy primary traffic to the canary. */
  readonly mirror: boolean;
  /** Whether the canary weight applies only to requests matching `analysis.match`. */
  readonly abTesting: boolean;
  readonly failedChecks: number;
  readonly iterations: number;
  /** Revision last taken up for a rollout (Flagger's hash of the target spec). */
  readonly lastAppliedSpec: string;
  /** Revision last promoted to the primary; null until initialisation completes. */
  readonly lastPromotedSpec: string | null;
  /** Revision the primary is meant to run (differs from lastPromotedSpec while Promoting). */
  readonly primaryRevision: string;
  /** Revision the canary runs; null when the canary is scaled to zero. */
  readonly canaryRevision: string | null;
  /**
   * Revision the fresh baseline runs (`analysis.baseline: fresh`, the primary's at the start of
   * the analysis); null or absent when none runs. While it runs it gets the canary's weight.
   */
  readonly baselineRevision?: string | null;
  readonly promoted: PromotedCondition;
  /** When the phase last changed. */
  readonly lastTransitionTime: number;
  /** Start of the progress-deadline clock: the last tick that decided something. */
  readonly lastProgressTime: number;
  /**
   * The judge's counts at the last check tick its evidence was measured from (a hold on
   * grown evidence, or another tick that progressed), with the revision they were counted
   * for: a hold on more canary requests than this is progress, and the reference's requests
   * since then tell whether the canary's silence is a stall (judge-progress.ts).
   */
  readonly judgeEvidence?: {
    readonly revision: string;
    readonly canaryRequests: number;
    /** The reference's (primary's or fresh baseline's) requests; absent in statuses stored before it was kept. */
    readonly referenceRequests?: number;
  };
  /** Webhooks and metrics are due again at this time (one analysis interval after the last check tick). */
  readonly nextCheckAt: number;
  /** Held by an operator: no check, no step, no deadline until resumed. */
  readonly paused: boolean;
  /** Set from the decision to promote until the next rollout starts. */
  readonly promotion?: PromotionCause;
}

const CONDITIONS: Readonly<Record<RolloutPhase, readonly [PromotedCondition['status'], string]>> = {
  Initializing: ['Unknown', 'New process detected, starting initialization.'],
  Initialized: ['True', 'Process initialization completed.'],
  Waiting: ['Unknown', 'Waiting for approval.'],
  Progressing: ['Unknown', 'New revision detected, progressing canary analysis.'],
  WaitingPromotion: ['Unknown', 'Waiting for approval.'],
  Promoting: ['Unknown', 'Canary analysis completed, starting primary rolling update.'],
  Finalising: ['Unknown', 'Canary analysis completed, routing all traffic to primary.'],
  Succeeded: ['True', 'Canary analysis completed successfully, promotion finished.'],
  Failed: ['False', 'Canary analysis failed, canary scaled to zero.'],
  Terminating: ['Unknown', 'App removed, stopping its processes.'],
};

/** The Promoted condition for `phase`; keeps the previous transition time when the status value is unchanged. */
export function promotedCondition(
  phase: RolloutPhase,
  previous: PromotedCondition | undefined,
  now: number,
  message?: string,
): PromotedCondition {
  const [status, defaultMessage] = CONDITIONS[phase];
  const lastTransitionTime =
    previous !== undefined && previous.status === status ? previous.lastTransitionTime : now;
  return { type: 'Promoted', status, reason: phase, message: message ?? defaultMessage, lastTransitionTime };
}
