/**
 * The oracle: Wald's sequential probability ratio test of the canary's requests, knowing the
 * true error probabilities and latency distributions of both versions, at the same α and the
 * one-second observation cadence (latencies read per sketch bucket, as the router records them). It rolls back when the likelihood ratio of
 * "canary as it truly is" against "canary like the primary" reaches 1/α (Ville's inequality
 * bounds its false rollbacks by α); it never needs evidence to advance. No valid test that
 * must learn the rates from data can be faster on average.
 */
import type { StepObservation } from '../traffic.js';
import type { WeightSchedule } from '../scenarios.js';
import { nextWeight, type RolloutOutcome, type RolloutPolicy } from './policy.js';

/** The oracle, policy (c). */
export class OraclePolicy implements RolloutPolicy {
  readonly kind = 'oracle';
  private logLikelihoodRatio = 0;
  private readonly logThreshold: number;

  constructor(
    alpha: number,
    private readonly schedule: WeightSchedule,
  ) {
    this.logThreshold = Math.log(1 / alpha);
  }

  observe(step: StepObservation): RolloutOutcome | undefined {
    this.logLikelihoodRatio += step.oracleLogLikelihoodRatio;
    return this.logLikelihoodRatio >= this.logThreshold ? 'rollback' : undefined;
  }

  tick(weight: number): number | RolloutOutcome {
    return nextWeight(this.schedule, weight);
  }
}
