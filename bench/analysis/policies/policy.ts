/**
 * What a rollout policy is to the bench: it sees every step of traffic (and may roll back at
 * once), and at every analysis interval says which weight comes next or how the rollout ends.
 */
import type { StepObservation } from '../traffic.js';

/** How a rollout ends. */
export type RolloutOutcome = 'rollback' | 'promote';

/** The schedule every policy shares: the Flagger settings of test/fixtures/flagger-canary-seed.yaml. */
export const SCHEDULE = {
  /** Seconds between analysis ticks (`interval: 1m`). */
  intervalS: 60,
  stepWeight: 10,
  maxWeight: 50,
} as const;

/** One decision procedure under test. */
export interface RolloutPolicy {
  readonly kind: string;
  /** Called after every step of traffic ending at `nowS`; `rollback` ends the rollout now. */
  observe(step: StepObservation, nowS: number): RolloutOutcome | undefined;
  /** Called at each analysis tick with the current weight: the next weight, or an outcome. */
  tick(weight: number, nowS: number): number | RolloutOutcome;
}

/** The next weight on the shared schedule, or `promote` once at `maxWeight`. */
export function nextWeight(weight: number): number | RolloutOutcome {
  return weight < SCHEDULE.maxWeight ? Math.min(weight + SCHEDULE.stepWeight, SCHEDULE.maxWeight) : 'promote';
}
