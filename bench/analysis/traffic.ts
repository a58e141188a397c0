/**
 * The traffic model: a Poisson stream of requests on a virtual clock, each routed to the canary
 * with probability weight/100 (as the router's weighted pick does), failing with its version's
 * error probability and taking a log-normal latency. Every request consumes the same random
 * draws whatever its version, so one seed gives every policy the same requests (common random
 * numbers) until their canary weights diverge.
 */
import { bucketIndex, bucketValue, BUCKET_COUNT } from '../../src/analysis/latency-sketch.js';
import type { LatencyBuckets } from '../../src/analysis/bucket-counts.js';
import { Random } from './random.js';
import {
  BASE_MEDIAN_MS,
  LATENCY_SIGMA,
  type Scenario,
  type SharedIncident,
  type VersionModel,
} from './scenarios.js';

/** Latency counts per sketch bucket, cheap to fill and reset; a `LatencyBuckets` for the judge. */
export class DenseLatency implements LatencyBuckets {
  private readonly counts = new Uint32Array(BUCKET_COUNT);
  private touched: number[] = [];
  count = 0;

  add(index: number, times = 1): void {
    if (this.counts[index] === 0) this.touched.push(index);
    this.counts[index]! += times;
    this.count += times;
  }

  merge(other: DenseLatency): void {
    for (const [index, count] of other.buckets()) this.add(index, count);
  }

  reset(): void {
    for (const index of this.touched) this.counts[index] = 0;
    this.touched = [];
    this.count = 0;
  }

  buckets(): [number, number][] {
    this.touched.sort((x, y) => x - y);
    return this.touched.map((index) => [index, this.counts[index]!]);
  }

  /** The q-quantile as `LatencySketch.quantile` reads it (rank ⌈qn⌉), NaN when empty. */
  quantileMs(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (const [index, count] of this.buckets()) {
      seen += count;
      if (seen >= rank) return bucketValue(index);
    }
    return Number.NaN;
  }
}

/** What one version did during one step. */
export class VersionStep {
  requests = 0;
  errors = 0;
  readonly latency = new DenseLatency();

  reset(): void {
    this.requests = 0;
    this.errors = 0;
    this.latency.reset();
  }
}

/** One step of traffic, plus what only the simulator (and the oracle) can know. */
export class StepObservation {
  readonly primary = new VersionStep();
  readonly canary = new VersionStep();
  /** Σ over canary requests of the primary's error probability at that moment. */
  canaryErrorsAtPrimaryRate = 0;
  /** Log-likelihood ratio of the step's canary requests, true canary model vs primary's. */
  oracleLogLikelihoodRatio = 0;

  reset(): void {
    this.primary.reset();
    this.canary.reset();
    this.canaryErrorsAtPrimaryRate = 0;
    this.oracleLogLikelihoodRatio = 0;
  }
}

/** Generates a scenario's requests step by step. */
export class TrafficModel {
  private readonly random: Random;
  private nextArrivalS: number;

  constructor(
    private readonly scenario: Scenario,
    seed: number,
    startS: number,
  ) {
    this.random = new Random(seed);
    this.nextArrivalS = startS + this.random.exponential(scenario.rps);
  }

  private incidentAt(atS: number): SharedIncident | undefined {
    const incident = this.scenario.incident;
    return incident !== undefined && atS >= incident.fromS && atS < incident.toS ? incident : undefined;
  }

  private errorRate(version: VersionModel, atS: number): number {
    return this.incidentAt(atS)?.errorRate ?? version.errorRate;
  }

  /**
   * Fills `out` with the requests arriving before `toS` (since the previous call, or since the
   * start) at the given canary weight (0–100).
   */
  step(toS: number, canaryWeight: number, out: StepObservation): void {
    out.reset();
    const { primary, canary, rps } = this.scenario;
    const logMedian = Math.log(BASE_MEDIAN_MS);
    const shiftPrimary = Math.log(primary.latencyFactor);
    const shiftCanary = Math.log(canary.latencyFactor);
    const variance = LATENCY_SIGMA * LATENCY_SIGMA;
    while (this.nextArrivalS < toS) {
      const at = this.nextArrivalS;
      this.nextArrivalS += this.random.exponential(rps);
      const route = this.random.uniform();
      const failure = this.random.uniform();
      const z = this.random.normal();
      const toCanary = route * 100 < canaryWeight;
      const version = toCanary ? canary : primary;
      const rate = this.errorRate(version, at);
      const failed = failure < rate;
      const incidentShift = Math.log(this.incidentAt(at)?.latencyFactor ?? 1);
      const logMs = logMedian + incidentShift + (toCanary ? shiftCanary : shiftPrimary) + LATENCY_SIGMA * z;
      const side = toCanary ? out.canary : out.primary;
      side.requests++;
      if (failed) side.errors++;
      side.latency.add(bucketIndex(Math.exp(logMs)));
      if (toCanary) {
        const primaryRate = this.errorRate(primary, at);
        out.canaryErrorsAtPrimaryRate += primaryRate;
        out.oracleLogLikelihoodRatio += failed
          ? Math.log(rate / primaryRate)
          : Math.log1p(-rate) - Math.log1p(-primaryRate);
        const fromPrimary = logMs - logMedian - incidentShift - shiftPrimary;
        const fromCanary = logMs - logMedian - incidentShift - shiftCanary;
        out.oracleLogLikelihoodRatio +=
          (fromPrimary * fromPrimary - fromCanary * fromCanary) / (2 * variance);
      }
    }
  }
}
