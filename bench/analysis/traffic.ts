/**
 * The traffic model, one second at a time: Poisson arrivals split between the versions by the
 * canary's weight (the router's weighted pick, or each user's pinned version under session
 * affinity), binomial failures at each version's error rate, and latencies drawn bucket by
 * bucket from its distribution. Each second has its own random stream, seeded by (seed,
 * second), so every policy gets the same traffic for as long as its canary weight is the same
 * (common random numbers). Alongside the counts it records what only the simulator knows: the
 * failures the primary's rate would have caused, and each oracle's log-likelihood ratio.
 */
import type { LatencyBuckets } from '../../src/analysis/bucket-counts.js';
import { bucketValue, BUCKET_COUNT } from '../../src/analysis/latency-sketch.js';
import { bucketDistribution, bucketProbability, type BucketDistribution } from './latency-model.js';
import { Random, seedOf } from './random.js';
import { binomial, poisson } from './sampling.js';
import type { Scenario, VersionModel } from './scenarios.js';

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

/** What one version did during one second. */
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

/** One second of traffic, plus what only the simulator (and the oracles) can know. */
export class StepObservation {
  readonly primary = new VersionStep();
  readonly canary = new VersionStep();
  /** Expected canary failures had the canary failed at the primary's rate. */
  canaryErrorsAtPrimaryRate = 0;
  /** Log-likelihood ratio of the canary's requests, true canary model vs the primary's. */
  oracleLogLikelihoodRatio = 0;
  /**
   * Log-likelihood ratios of which version served each failure (errors) and each latency
   * bucket (latency), given the realised split, when the canary's effect δ is known: the
   * primary's rate cancels (REFERENCE §4, Lindon & Malek). Null when δ = 0 for that stream.
   */
  conditionalErrorsLlr: number | null = null;
  conditionalLatencyLlr: number | null = null;

  reset(): void {
    this.primary.reset();
    this.canary.reset();
    this.canaryErrorsAtPrimaryRate = 0;
    this.oracleLogLikelihoodRatio = 0;
    this.conditionalErrorsLlr = null;
    this.conditionalLatencyLlr = null;
  }
}

interface StickySplit {
  readonly share: number;
  readonly canaryRate: number;
  readonly primaryRate: number;
}

/** Generates a scenario's traffic second by second. */
export class TrafficModel {
  private readonly burstPhaseS: number;
  private readonly userHashes: Float64Array = new Float64Array(0);
  private readonly userRates: Float64Array = new Float64Array(0);
  private readonly stickySplits = new Map<number, StickySplit>();

  constructor(
    private readonly scenario: Scenario,
    private readonly seed: number,
  ) {
    const setup = new Random(seedOf(seed, 0x5eed));
    this.burstPhaseS = scenario.bursts === undefined ? 0 : setup.uniform() * scenario.bursts.everyS;
    const sticky = scenario.sticky;
    if (sticky !== undefined) {
      this.userHashes = new Float64Array(sticky.users).map(() => setup.uniform());
      this.userRates = new Float64Array(sticky.users).map(() =>
        setup.uniform() < sticky.heavyShare ? sticky.heavyErrorRate : sticky.lightErrorRate,
      );
    }
  }

  /** Error rate of `version` at second `t` by its model (what the oracles know). */
  private modelRate(version: VersionModel, which: 'primary' | 'canary', t: number): number {
    const { incident, bursts } = this.scenario;
    let rate = version.errorRate;
    if (incident?.errorRate !== undefined && t >= incident.fromS && t < incident.toS)
      rate = incident.errorRate;
    if (bursts !== undefined && (bursts.versions === 'both' || which === 'canary')) {
      const phase = (((t - this.burstPhaseS) % bursts.everyS) + bursts.everyS) % bursts.everyS;
      if (phase < bursts.durationS) rate = Math.max(rate, bursts.errorRate);
    }
    return rate;
  }

  private latencyAt(version: VersionModel, t: number): BucketDistribution {
    const incident = this.scenario.incident;
    const shared =
      incident !== undefined && t >= incident.fromS && t < incident.toS ? (incident.latencyFactor ?? 1) : 1;
    return bucketDistribution({
      factor: version.latencyFactor * shared,
      tailShare: version.tail?.share ?? 0,
      tailAddMs: version.tail?.addMs ?? 0,
    });
  }

  /** Canary share and each side's mean error rate when users are pinned to versions. */
  private stickySplit(weight: number): StickySplit {
    const known = this.stickySplits.get(weight);
    if (known !== undefined) return known;
    let canaryUsers = 0;
    let canarySum = 0;
    let primarySum = 0;
    this.userHashes.forEach((hash, i) => {
      if (hash * 100 < weight) {
        canaryUsers++;
        canarySum += this.userRates[i]!;
      } else primarySum += this.userRates[i]!;
    });
    const primaryUsers = this.userHashes.length - canaryUsers;
    const split = {
      share: canaryUsers / this.userHashes.length,
      canaryRate: canaryUsers === 0 ? 0 : canarySum / canaryUsers,
      primaryRate: primaryUsers === 0 ? 0 : primarySum / primaryUsers,
    };
    this.stickySplits.set(weight, split);
    return split;
  }

  /** Fills `out` with the second [toS − 1, toS) at the given canary weight (0–100). */
  step(toS: number, canaryWeight: number, out: StepObservation): void {
    out.reset();
    const t = toS - 1;
    const { scenario } = this;
    const random = new Random(seedOf(this.seed, toS));
    const surge = scenario.surge;
    const rps = scenario.rps * (surge !== undefined && t >= surge.fromS && t < surge.toS ? surge.factor : 1);
    const primaryRate = this.modelRate(scenario.primary, 'primary', t);
    const canaryRate = this.modelRate(scenario.canary, 'canary', t);
    let share = canaryWeight / 100;
    let served = { primary: primaryRate, canary: canaryRate };
    if (scenario.sticky !== undefined) {
      const split = this.stickySplit(canaryWeight);
      share = split.share;
      // Same versions, different users: the mean rate of the users each side serves, as
      // shifted by any shared cause (the model rate over the base rate).
      served = {
        primary: Math.min(1, (split.primaryRate * primaryRate) / scenario.primary.errorRate),
        canary: Math.min(1, (split.canaryRate * canaryRate) / scenario.canary.errorRate),
      };
    }
    const total = poisson(random, rps);
    const canaryN = binomial(random, total, share);
    const primaryLatency = this.latencyAt(scenario.primary, t);
    const canaryLatency = this.latencyAt(scenario.canary, t);
    fill(out.primary, random, total - canaryN, served.primary, primaryLatency);
    fill(out.canary, random, canaryN, served.canary, canaryLatency);
    out.canaryErrorsAtPrimaryRate = canaryN * primaryRate;
    if (canaryN > 0) {
      out.oracleLogLikelihoodRatio =
        errorLlr(out.canary, canaryRate, primaryRate) +
        latencyLlr(out.canary.latency, canaryLatency, primaryLatency);
    }
    if (total > 0 && canaryN > 0 && canaryN < total) {
      const rho = canaryN / total;
      if (canaryRate !== primaryRate) {
        const theta = tilt(rho, canaryRate / primaryRate);
        out.conditionalErrorsLlr =
          out.canary.errors * Math.log(theta / rho) + out.primary.errors * Math.log((1 - theta) / (1 - rho));
      }
      if (canaryLatency !== primaryLatency) {
        out.conditionalLatencyLlr = conditionalLatencyLlr(out, rho, canaryLatency, primaryLatency);
      }
    }
  }
}

function fill(
  side: VersionStep,
  random: Random,
  n: number,
  errorRate: number,
  latency: BucketDistribution,
): void {
  side.requests = n;
  side.errors = binomial(random, n, errorRate);
  for (let i = 0; i < n; i++) side.latency.add(latency.sampler.draw(random));
}

/** P(canary | event) when the canary's events are `ratio` times as likely per request. */
function tilt(rho: number, ratio: number): number {
  if (!Number.isFinite(ratio)) return 1;
  return (rho * ratio) / (rho * ratio + 1 - rho);
}

const safeLog = (x: number): number => Math.log(Math.max(x, 1e-300));

function errorLlr(canary: VersionStep, canaryRate: number, primaryRate: number): number {
  if (canaryRate === primaryRate) return 0;
  const failed = canary.errors === 0 ? 0 : canary.errors * safeLog(canaryRate / primaryRate);
  const ok = canary.requests - canary.errors;
  return failed + (ok === 0 ? 0 : ok * (safeLog(1 - canaryRate) - safeLog(1 - primaryRate)));
}

function latencyLlr(latency: DenseLatency, canary: BucketDistribution, primary: BucketDistribution): number {
  if (canary === primary) return 0;
  let llr = 0;
  for (const [index, count] of latency.buckets()) {
    llr += count * (safeLog(bucketProbability(canary, index)) - safeLog(bucketProbability(primary, index)));
  }
  return llr;
}

function conditionalLatencyLlr(
  out: StepObservation,
  rho: number,
  canary: BucketDistribution,
  primary: BucketDistribution,
): number {
  const thetaOf = (index: number): number => {
    const p = bucketProbability(primary, index);
    return p === 0 ? 1 : tilt(rho, bucketProbability(canary, index) / p);
  };
  let llr = 0;
  for (const [index, count] of out.canary.latency.buckets()) llr += count * safeLog(thetaOf(index) / rho);
  for (const [index, count] of out.primary.latency.buckets())
    llr += count * safeLog((1 - thetaOf(index)) / (1 - rho));
  return llr;
}
