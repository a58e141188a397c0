/**
 * What a simulated rollout policy is to the bench (Flagger and the oracles; Aviary runs the
 * product's own controller logic instead, product-rollout.ts): it sees every second of
 * traffic (and may roll back at once), and at every analysis interval says which weight comes
 * next or how the rollout ends.
 */
import type { WeightSchedule } from '../scenarios.js';
import type { StepObservation } from '../traffic.js';

/** How a rollout ends. */
export type RolloutOutcome = 'rollback' | 'promote';

/** One decision procedure under test. */
export interface RolloutPolicy {
  readonly kind: string;
  /** Called after every second of traffic ending at `nowS`; `rollback` ends the rollout now. */
  observe(step: StepObservation, nowS: number): RolloutOutcome | undefined;
  /** Called at each analysis tick with the current weight: the next weight, or an outcome. */
  tick(weight: number, nowS: number): number | RolloutOutcome;
}

/** The next weight on `schedule`, or `promote` once at `maxWeight`. */
export function nextWeight(schedule: WeightSchedule, weight: number): number | RolloutOutcome {
  return weight < schedule.maxWeight ? Math.min(weight + schedule.stepWeight, schedule.maxWeight) : 'promote';
}
