/**
 * The side effects the state machine asks for, as plain data. The edge executes them in
 * order: it starts, replaces, scales and stops processes, sets routes, calls fire-and-forget
 * hooks, sends alerts and records events. The set is the smallest that covers Flagger's
 * controller calls (Initialize, ScaleFromZero, Promote, ScaleToZero, SetRoutes,
 * runPostRolloutHooks, alert, recordEvent); see docs/adr/0003-rollout-state-machine.md.
 */
import type { AlertSeverity } from '../../config/app-schema.js';
import type { Role } from './observations.js';
import type { RolloutPhase, RolloutStatus } from './rollout-status.js';

/** Why an event was recorded; stable names for the UI and for filtering. */
export type EventReason =
  | 'Initializing'
  | 'Initialized'
  | 'NewRevision'
  | 'WaitingForApproval'
  | 'RolloutApproved'
  | 'Restarted'
  | 'Reverted'
  | 'NotReady'
  | 'PreRolloutFailed'
  | 'ChecksFailed'
  | 'InsufficientData'
  | 'WaitingForTrafficIncrease'
  | 'WeightAdvanced'
  | 'MirrorStarted'
  | 'IterationAdvanced'
  | 'TrafficSwitched'
  | 'WaitingForPromotion'
  | 'Promoting'
  | 'PromotionStep'
  | 'Finalising'
  | 'Succeeded'
  | 'RollbackRequested'
  | 'RegressionDetected'
  | 'ThresholdReached'
  | 'DeadlineExceeded'
  | 'Failed'
  | 'Paused'
  | 'Resumed'
  | 'OperatorPromoted'
  | 'OperatorAborted'
  | 'WeightsSet'
  | 'CommandIgnored'
  | 'Scaled'
  | 'BaselineStarted'
  | 'BaselineStopped'
  | 'ClockJumped'
  | 'Terminating';

/** One side effect for the edge to execute; see the table in docs/adr/0003-rollout-state-machine.md. */
export type RolloutAction =
  /** Run `revision` in the canary role with `replicas` processes, replacing whatever runs there. */
  | { readonly kind: 'start-canary'; readonly revision: string; readonly replicas: number }
  /**
   * Start a new copy of `revision` (the primary's) in the baseline role with `replicas`
   * processes, for the judge to compare the canary with (`analysis.baseline: fresh`).
   */
  | { readonly kind: 'start-baseline'; readonly revision: string; readonly replicas: number }
  /**
   * Make the primary run `revision` (Flagger's "copy the canary spec to the primary"; also
   * the initial deployment). The edge starts the new processes, moves the primary's traffic
   * to them once they are ready, and stops the old ones only when no traffic goes to them.
   */
  | { readonly kind: 'promote-spec'; readonly revision: string; readonly replicas: number }
  /** Change the number of processes of a role without changing its revision. */
  | { readonly kind: 'scale'; readonly role: Role; readonly replicas: number }
  /** Stop every process of a role (Flagger's ScaleToZero), after its traffic has drained. */
  | { readonly kind: 'stop'; readonly role: Role }
  /**
   * Weights always add up to 100: `primaryWeight + canaryWeight + baselineWeight`, where
   * `baselineWeight` is there only while a fresh baseline runs. With `mirror`, `mirrorWeight` % of the primary's
   * requests are also copied to the canary (responses discarded). With `abTesting`, the
   * weights apply to requests matching `analysis.match`; the others go to the primary.
   */
  | {
      readonly kind: 'set-routes';
      readonly primaryWeight: number;
      readonly canaryWeight: number;
      readonly baselineWeight?: number;
      readonly mirror: boolean;
      readonly mirrorWeight?: number;
      readonly abTesting: boolean;
    }
  /** Call the post-rollout hooks, fire-and-forget (`event` hooks receive every event action instead). */
  | { readonly kind: 'run-hooks'; readonly type: 'post-rollout'; readonly phase: RolloutPhase }
  /** Send to the alert providers whose severity filter lets it through. */
  | { readonly kind: 'alert'; readonly severity: AlertSeverity; readonly message: string }
  /** Record (and forward to `event` webhooks); every transition and every hold has one. */
  | {
      readonly kind: 'event';
      readonly reason: EventReason;
      readonly message: string;
      readonly severity: 'info' | 'warning';
    };

/** What one call of `step` decided. */
export interface StepResult {
  readonly status: RolloutStatus;
  readonly actions: readonly RolloutAction[];
}
