/**
 * The conditional oracle: it knows the canary's true effect δ (how much more likely a failure,
 * or a request in each latency bucket, is on the canary than on the primary at each moment)
 * but not the primary's rate. Given the realised split ρ of a second's requests, the version
 * that served each failure or bucket event is Bernoulli(ρe^δ / (ρe^δ + 1 − ρ)) whatever the
 * baseline (REFERENCE §4, Lindon & Malek 2022), so this SPRT is immune to shared incidents:
 * the fair limit for a test that must be. Errors and latency are two e-processes over the
 * same requests; when the canary differs in both, they are averaged (a mixture stays an
 * e-process, at a cost of at most ln 2). It rolls back when the e-value reaches 1/α and
 * advances on the schedule otherwise, as the full oracle does.
 */
import type { WeightSchedule } from '../scenarios.js';
import type { StepObservation } from '../traffic.js';
import { nextWeight, type RolloutOutcome, type RolloutPolicy } from './policy.js';

/** The conditional oracle, policy (d). */
export class ConditionalOraclePolicy implements RolloutPolicy {
  readonly kind = 'conditional oracle';
  private errorsLlr = 0;
  private latencyLlr = 0;
  private usesErrors = false;
  private usesLatency = false;
  private readonly logThreshold: number;

  constructor(
    alpha: number,
    private readonly schedule: WeightSchedule,
  ) {
    this.logThreshold = Math.log(1 / alpha);
  }

  observe(step: StepObservation): RolloutOutcome | undefined {
    if (step.conditionalErrorsLlr !== null) {
      this.errorsLlr += step.conditionalErrorsLlr;
      this.usesErrors = true;
    }
    if (step.conditionalLatencyLlr !== null) {
      this.latencyLlr += step.conditionalLatencyLlr;
      this.usesLatency = true;
    }
    return this.logEValue() >= this.logThreshold ? 'rollback' : undefined;
  }

  /** ln of the e-value: one stream's likelihood ratio, or the mean of both once both apply. */
  private logEValue(): number {
    if (this.usesErrors && this.usesLatency) {
      const top = Math.max(this.errorsLlr, this.latencyLlr);
      return top + Math.log((Math.exp(this.errorsLlr - top) + Math.exp(this.latencyLlr - top)) / 2);
    }
    return this.usesErrors ? this.errorsLlr : this.usesLatency ? this.latencyLlr : 0;
  }

  tick(weight: number): number | RolloutOutcome {
    return nextWeight(this.schedule, weight);
  }
}
