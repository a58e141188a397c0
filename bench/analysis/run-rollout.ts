/**
 * Plays one rollout of one scenario under a simulated policy (Flagger, the oracles) on the
 * virtual clock: one-second traffic steps from the first canary traffic (60 s after the start,
 * when the first check tick sets the weight to stepWeight), analysis ticks every interval
 * after that. Aviary is not played here: product-rollout.ts runs the product's controller logic.
 */
import type { RolloutPolicy } from './policies/policy.js';
import type { Scenario } from './scenarios.js';
import { StepObservation, TrafficModel } from './traffic.js';

/** When the canary first gets traffic, in seconds after the rollout started. */
export const FIRST_CANARY_TRAFFIC_S = 60;
/** A rollout still undecided after this long (from first canary traffic) counts as undecided. */
export const HORIZON_S = 4 * 3600;

/** How one rollout ended. */
export interface RolloutResult {
  /** `refused`: the product's configuration check rejects the scenario's settings (no rollout). */
  readonly outcome: 'rollback' | 'promote' | 'undecided' | 'refused';
  /** Seconds from first canary traffic to the decision (to the horizon when undecided). */
  readonly decisionS: number;
  /** Canary failures above what the primary's error rate would have caused on those requests. */
  readonly excessFailures: number;
  readonly canaryRequests: number;
  /** Why it was rolled back (the product's event reason) or refused (the config error). */
  readonly cause?: string;
}

/** Runs the rollout; deterministic in (scenario, seed). */
export function runRollout(scenario: Scenario, policy: RolloutPolicy, seed: number): RolloutResult {
  const traffic = new TrafficModel(scenario, seed);
  const step = new StepObservation();
  const { intervalS, stepWeight } = scenario.schedule;
  let weight: number = stepWeight;
  let excessFailures = 0;
  let canaryRequests = 0;
  for (let elapsed = 1; elapsed <= HORIZON_S; elapsed++) {
    const nowS = FIRST_CANARY_TRAFFIC_S + elapsed;
    traffic.step(nowS, weight, step);
    excessFailures += step.canary.errors - step.canaryErrorsAtPrimaryRate;
    canaryRequests += step.canary.requests;
    if (policy.observe(step, nowS) === 'rollback') {
      return { outcome: 'rollback', decisionS: elapsed, excessFailures, canaryRequests };
    }
    if (elapsed % intervalS === 0) {
      const next = policy.tick(weight, nowS);
      if (next === 'rollback' || next === 'promote') {
        return { outcome: next, decisionS: elapsed, excessFailures, canaryRequests };
      }
      weight = next;
    }
  }
  return { outcome: 'undecided', decisionS: HORIZON_S, excessFailures, canaryRequests };
}
