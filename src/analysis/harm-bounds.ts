/**
 * Anytime-valid upper bounds on how much worse the canary is than the primary, and how they
 * compare with `analysis.judge.maxHarm`. Every bound comes from the confidence sequences of
 * confidence-sequence.ts, each at its own share of α (Bonferroni: errors ¾, split over their
 * two sides, latency ¼, split over the quantiles and their two sides), so all displayed bounds
 * hold together, at every look, with probability ≥ 1 − α. See docs/adr/0015-harm-bounds.md.
 *
 * Errors: U_c bounds the canary's average error probability from above, L_p the primary's
 * from below; the excess p_c − p_p is then below U_c − L_p, and the ratio below U_c / L_p.
 *
 * Latency, per quantile q, for a version whose latency distribution F is stationary during the
 * analysis: the canary's q-quantile is at most the smallest bucket edge t at which the
 * canary's share of requests slower than t is shown below 1 − q; the primary's is above the
 * largest edge t at which its share slower than t is shown above 1 − q. If the canary's bound t
 * were wrong (t < ξ_q), every request at or above ξ_q is also above t, so the share's upper
 * sequence would exclude P(X ≥ ξ_q) ≥ 1 − q at the fixed point ξ_q: probability ≤ α. The
 * primary's side mirrors it. Counts above a bucket edge are exact, so bucketing costs width,
 * never validity.
 */
import type { JudgeConfig } from '../config/app-judge.js';
import { bucketUpperEdge, type BucketCounts } from './bucket-counts.js';
import { rateLowerBound, rateUpperBound, rejects } from './confidence-sequence.js';
import type { LatencyTestState } from './latency-test.js';
import type { VersionTotals } from './judge-state.js';
import { ERROR_ALPHA_SHARE } from './alpha-split.js';

/** Worst acceptable canary, as `analysis.judge.maxHarm` declares it. */
export type MaxHarm = JudgeConfig['maxHarm'];

/** Bounds on the canary's error-rate excess; rates are errors per request. */
export interface ErrorHarm {
  /** The canary's average error rate is below this. */
  readonly canaryUpper: number;
  /** The primary's average error rate is above this. */
  readonly primaryLower: number;
  /** canary − primary is below this. */
  readonly excessUpper: number;
  /** canary / primary − 1 is below this; null while the primary's lower bound is 0. */
  readonly relativeExcessUpper: number | null;
  /** Level of each of the two sequences. */
  readonly alphaPerSide: number;
}

/** Bounds on the canary's excess at one latency quantile, in ms; null = unbounded. */
export interface LatencyHarm {
  readonly quantile: number;
  readonly canaryUpperMs: number | null;
  readonly primaryLowerMs: number | null;
  readonly excessUpperMs: number | null;
  readonly relativeExcessUpper: number | null;
  readonly alphaPerSide: number;
}

/** Everything the harm gate reads, as computed from the judge's running totals. */
export interface HarmBounds {
  readonly errors: ErrorHarm;
  readonly latency: readonly LatencyHarm[];
  /**
   * The largest canary weight (percent, up to 100) a step may go to: at weight w the canary
   * adds w/100 of its error-rate excess to all traffic, which must stay within maxHarm.
   * Latency does not gate steps: a quantile's bound needs far more requests (see the ADR).
   */
  readonly allowedWeight: number;
  /** Every bound shows the canary itself within maxHarm: errors and every quantile. Promotion needs it. */
  readonly withinMaxHarm: boolean;
}

/** The data the bounds are read from; counts may be scaled (fractional) for projections. */
export interface HarmData {
  readonly primary: VersionTotals;
  readonly canary: VersionTotals;
  readonly latency: Pick<LatencyTestState, 'primary' | 'canary'>;
}

/**
 * How much more data of the same kind a projection assumes (canary × c, primary × p), and the
 * relative precision its error bounds need (a projection needs less than what is displayed).
 */
interface Scale {
  readonly canary: number;
  readonly primary: number;
  readonly precision?: number;
}
const UNSCALED: Scale = { canary: 1, primary: 1 };
/** Projections are rough ("~N requests"): bounds to 0.01 %, factors to 5 %. */
const PROJECTION_PRECISION = 1e-4;
const PROJECTION_STEP = 1.05;

/** α of each one-sided sequence: errors get the error test's share (alpha-split.ts), latency the rest. */
export function harmLevels(config: Pick<JudgeConfig, 'alpha' | 'quantiles'>): {
  errors: number;
  latency: number;
} {
  const errors = config.alpha * ERROR_ALPHA_SHARE;
  return { errors: errors / 2, latency: (config.alpha - errors) / (2 * config.quantiles.length) };
}

/** Counts above each bucket edge, from index firstIndex − 1 (all of them) to the last. */
function countsAbove(counts: BucketCounts): number[] {
  const above = new Array<number>(counts.counts.length + 1).fill(0);
  for (let i = counts.counts.length - 1; i >= 0; i--) above[i] = above[i + 1]! + counts.counts[i]!;
  return above;
}

/** First k in [0, n) for which `holds` is true, given it is false then true; n when never. */
function firstTrue(n: number, holds: (k: number) => boolean): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (holds(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The canary's q-quantile is at most this (ms), or null when nothing is shown yet. */
export function quantileUpperMs(counts: BucketCounts, q: number, alpha: number, scale = 1): number | null {
  if (counts.total === 0) return null;
  const above = countsAbove(counts);
  // Edge k is the upper edge of bucket firstIndex − 1 + k; its count above is above[k].
  const k = firstTrue(above.length, (j) =>
    rejects(above[j]! * scale, counts.total * scale, 1 - q, alpha, 'upper'),
  );
  if (k === above.length) return null;
  const edge = bucketUpperEdge(counts.firstIndex - 1 + k);
  return Number.isFinite(edge) ? edge : null;
}

/** The primary's q-quantile is above this (ms), or null when nothing is shown yet. */
export function quantileLowerMs(counts: BucketCounts, q: number, alpha: number, scale = 1): number | null {
  if (counts.total === 0) return null;
  const above = countsAbove(counts);
  const k = firstTrue(
    above.length,
    (j) => !rejects(above[j]! * scale, counts.total * scale, 1 - q, alpha, 'lower'),
  );
  if (k === 0) return null;
  const index = counts.firstIndex - 1 + (k - 1);
  return index < 0 ? null : bucketUpperEdge(index);
}

function errorHarm(data: HarmData, level: number, scale: Scale): ErrorHarm {
  const canaryUpper = rateUpperBound(
    data.canary.errors * scale.canary,
    data.canary.requests * scale.canary,
    level,
  );
  const primaryLower = rateLowerBound(
    data.primary.errors * scale.primary,
    data.primary.requests * scale.primary,
    level,
  );
  return {
    canaryUpper,
    primaryLower,
    excessUpper: canaryUpper - primaryLower,
    relativeExcessUpper: primaryLower > 0 ? canaryUpper / primaryLower - 1 : null,
    alphaPerSide: level,
  };
}

function latencyHarm(data: HarmData, q: number, level: number, scale: Scale): LatencyHarm {
  const canaryUpperMs = quantileUpperMs(data.latency.canary, q, level, scale.canary);
  const primaryLowerMs = quantileLowerMs(data.latency.primary, q, level, scale.primary);
  const known = canaryUpperMs !== null && primaryLowerMs !== null;
  return {
    quantile: q,
    canaryUpperMs,
    primaryLowerMs,
    excessUpperMs: known ? canaryUpperMs - primaryLowerMs : null,
    relativeExcessUpper: known && primaryLowerMs > 0 ? canaryUpperMs / primaryLowerMs - 1 : null,
    alphaPerSide: level,
  };
}

/**
 * How many times maxHarm the canary's excess may be, by these bounds: the excess counts only
 * beyond both the absolute and the relative tolerance, as minEffect does, so the canary is
 * within k × maxHarm when upper ≤ lower + k·max(absolute, relative·lower). The right side
 * grows with the primary's value, so its lower bound keeps the comparison conservative.
 */
function harmMultiple(excess: number, lower: number, absolute: number, relative: number): number {
  if (excess <= 0) return 0;
  const tolerance = Math.max(absolute, relative * lower);
  return tolerance > 0 ? excess / tolerance : Infinity;
}

function boundsAt(data: HarmData, config: JudgeConfig, scale: Scale): HarmBounds {
  const levels = harmLevels(config);
  const errors = errorHarm(data, levels.errors, scale);
  const latency = config.quantiles.map((q) => latencyHarm(data, q, levels.latency, scale));
  const { errorRate, latency: latencyTolerance } = config.maxHarm;
  const errorMultiple = harmMultiple(
    errors.excessUpper,
    errors.primaryLower,
    errorRate.absolute,
    errorRate.relative,
  );
  const latencyWithin = latency.every(
    (l) =>
      l.excessUpperMs !== null &&
      harmMultiple(
        l.excessUpperMs,
        l.primaryLowerMs!,
        latencyTolerance.absoluteMs,
        latencyTolerance.relative,
      ) <= 1,
  );
  return {
    errors,
    latency,
    allowedWeight: errorMultiple <= 1 ? 100 : 100 / errorMultiple,
    withinMaxHarm: errorMultiple <= 1 && latencyWithin,
  };
}

/** The harm bounds of the judge's data so far. */
export function harmBounds(data: HarmData, config: JudgeConfig): HarmBounds {
  return boundsAt(data, config, UNSCALED);
}

/** Projections stop at this many times the canary's requests so far. */
const MAX_PROJECTION = 2 ** 20;

/**
 * About how many more canary requests the bounds need before they allow a step to `weight`,
 * or promotion (`weight` 100: every bound within maxHarm), if the rates, latencies and traffic split seen so far continue: the smallest
 * multiple of the data so far that clears, found by bisection to 5 %. Null when the canary has no
 * requests yet, or when the observed excess itself is beyond what the weight allows (more of
 * the same data would never clear it).
 */
export function moreCanaryRequestsFor(data: HarmData, config: JudgeConfig, weight: number): number | null {
  const n = data.canary.requests;
  if (n <= 0 || data.primary.requests <= 0) return null;
  // The traffic split so far continues: both versions' counts grow by the same factor.
  const clears = (factor: number): boolean => {
    const bounds = boundsAt(data, config, {
      canary: factor,
      primary: factor,
      precision: PROJECTION_PRECISION,
    });
    return weight >= 100 ? bounds.withinMaxHarm : bounds.allowedWeight >= weight;
  };
  if (clears(1)) return 0;
  if (!clears(MAX_PROJECTION)) return null;
  let lo = 1;
  let hi = MAX_PROJECTION;
  while (hi / lo > PROJECTION_STEP) {
    const mid = Math.sqrt(lo * hi);
    if (clears(mid)) hi = mid;
    else lo = mid;
  }
  return Math.ceil((hi - 1) * n);
}
