/**
 * What an analysis tick will look at, from the spec and the status alone. Shared by
 * `step` (which decides) and `requiredChecks` (which tells the scheduler what to run), so
 * the two can never disagree about which hooks a tick needs.
 */
import type { AnalysisSpec } from '../../config/app-schema.js';
import type { RolloutStatus } from './rollout-status.js';
import { strategyOf } from './weights.js';

/**
 * Flagger's "starting analysis" tick: no traffic routed or mirrored to the canary yet and no
 * iteration done. Pre-rollout hooks run instead of the rollout hooks and metrics.
 */
export function isAnalysisStart(
  status: Pick<RolloutStatus, 'canaryWeight' | 'iterations' | 'mirror'>,
): boolean {
  return status.canaryWeight === 0 && status.iterations === 0 && !status.mirror;
}

/**
 * The confirm-* gate the next advance depends on, if any: confirm-traffic-increase before a
 * weight increase (not when leaving a mirror step, as in Flagger), confirm-promotion at
 * `maxWeight` (canary) or once the iterations are done (A/B, blue/green).
 */
export function nextGate(
  analysis: AnalysisSpec,
  status: Pick<RolloutStatus, 'canaryWeight' | 'iterations' | 'mirror'>,
): 'confirm-traffic-increase' | 'confirm-promotion' | undefined {
  if (strategyOf(analysis) !== 'canary') {
    return status.iterations >= (analysis.iterations ?? 0) ? 'confirm-promotion' : undefined;
  }
  if (status.canaryWeight >= analysis.maxWeight) return 'confirm-promotion';
  if (status.mirror && status.canaryWeight === 0) return undefined;
  return 'confirm-traffic-increase';
}
