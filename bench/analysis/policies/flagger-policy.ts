/**
 * Flagger's canary analysis with the settings of test/fixtures/flagger-canary-seed.yaml:
 * interval 1m, threshold 5, stepWeight 10, maxWeight 50 (or the scenario's weights), request-success-rate ≥ 99 % over
 * 1m, request-duration P99 ≤ 500 ms over 30s. Order within a tick, as in Flagger's
 * scheduler: first "failedChecks ≥ threshold → roll back" (so the 5th failure rolls back on
 * the following tick), then the metric checks (a failure, including "no values" when the
 * canary had no traffic, adds one failed check and blocks the advance; failed checks are
 * never reset during an analysis), then the weight step, or promotion once at maxWeight.
 */
import type { StepObservation } from '../traffic.js';
import { DenseLatency } from '../traffic.js';
import type { WeightSchedule } from '../scenarios.js';
import { nextWeight, type RolloutOutcome, type RolloutPolicy } from './policy.js';

const THRESHOLD = 5;
const MIN_SUCCESS_RATE_PERCENT = 99;
const MAX_P99_MS = 500;
const DURATION_WINDOW_S = 30;

/** Flagger, policy (a). */
export class FlaggerPolicy implements RolloutPolicy {
  readonly kind = 'flagger';
  private failedChecks = 0;
  /** Canary requests and errors in the success-rate window (the last interval, 1m). */
  private requests = 0;
  private errors = 0;
  /** Canary latencies in the request-duration window (the last 30 s before the tick). */
  private readonly recentLatency = new DenseLatency();
  private nextTickS: number;

  constructor(
    firstTickS: number,
    private readonly schedule: WeightSchedule,
  ) {
    this.nextTickS = firstTickS;
  }

  observe(step: StepObservation, nowS: number): RolloutOutcome | undefined {
    this.requests += step.canary.requests;
    this.errors += step.canary.errors;
    if (nowS > this.nextTickS - DURATION_WINDOW_S) this.recentLatency.merge(step.canary.latency);
    return undefined;
  }

  tick(weight: number, nowS: number): number | RolloutOutcome {
    this.nextTickS = nowS + this.schedule.intervalS;
    if (this.failedChecks >= THRESHOLD) return 'rollback';
    const passed = this.successRateOk() && this.durationOk();
    this.requests = 0;
    this.errors = 0;
    this.recentLatency.reset();
    if (!passed) {
      this.failedChecks++;
      return weight;
    }
    return nextWeight(this.schedule, weight);
  }

  /** "No values" (no canary requests) is a failed check, as in Flagger. */
  private successRateOk(): boolean {
    if (this.requests === 0) return false;
    return (100 * (this.requests - this.errors)) / this.requests >= MIN_SUCCESS_RATE_PERCENT;
  }

  private durationOk(): boolean {
    if (this.recentLatency.count === 0) return false;
    return this.recentLatency.quantileMs(0.99) <= MAX_P99_MS;
  }
}
