/**
 * Time-uniform confidence sequences for one quantile of a latency distribution, after Howard &
 * Ramdas, "Sequential estimation of quantiles with applications to A/B-testing and best-arm
 * identification" (Bernoulli 2022), using their beta-binomial mixture boundary.
 *
 * For the true p-quantile q of a continuous distribution, the number of the first n
 * observations at or below q is Binomial(n, p) for every n. Mixing the likelihood ratio of
 * Binomial(n, p′) against Binomial(n, p) over a Beta prior on p′ gives a test martingale M_n(s)
 * of the count s; by Ville's inequality, with probability ≥ 1 − α the count stays, for all n at
 * once, inside the ranks where M_n < 1/α. Those ranks, read as order statistics, bound q.
 */
import { bucketValue } from './latency-sketch.js';
import { bucketLowerBound, bucketsOfRanks, bucketUpperEdge, type BucketCounts } from './bucket-counts.js';
import { logGamma } from './special-functions.js';

/**
 * Sample size at which the boundary is tightest. Canaries are judged after a few hundred to a
 * few thousand requests; the boundary is within a few percent of its best across that range.
 */
const OPTIMAL_SAMPLE_SIZE = 1000;

/** Anytime-valid band for one quantile; bounds in milliseconds. */
export interface QuantileBand {
  /** Point estimate (sketch quantile), or null with no observations. */
  readonly estimateMs: number | null;
  /** The quantile is above this (0 when unbounded). */
  readonly lowerMs: number;
  /** The quantile is below this (Infinity when unbounded). */
  readonly upperMs: number;
}

/** Order-statistic ranks bounding the quantile; 0 and n + 1 mean "no bound". */
export interface RankBounds {
  /** q ≥ X₍lowerRank₎. */
  readonly lowerRank: number;
  /** q < X₍upperRank₎. */
  readonly upperRank: number;
}

/**
 * Beta(c·p, c·(1 − p)) prior with the concentration Howard & Ramdas derive from their
 * two-sided normal-mixture tuning (confseq's `BetaBinomialMixture`): tightest near
 * {@link OPTIMAL_SAMPLE_SIZE} observations at this α.
 */
function priorConcentration(logThreshold: number): number {
  const rho = OPTIMAL_SAMPLE_SIZE / (2 * logThreshold + Math.log(1 + 2 * logThreshold));
  return Math.max(rho - 1, 1e-3);
}

/**
 * Finds the boundary of a predicate that is true on [from, boundary) and false on
 * [boundary, to], starting from a guess: gallop to bracket, then bisect. Returns `boundary`.
 */
function findBoundary(isBelow: (s: number) => boolean, from: number, to: number, guess: number): number {
  let lo = from - 1; // isBelow(lo) is treated as true
  let hi = to + 1; // isBelow(hi) is treated as false
  let probe = Math.min(Math.max(Math.round(guess), from), to);
  let step = 1;
  if (isBelow(probe)) {
    lo = probe;
    for (probe = lo + step; probe <= to; probe = lo + step) {
      if (!isBelow(probe)) {
        hi = probe;
        break;
      }
      lo = probe;
      step *= 2;
    }
  } else {
    hi = probe;
    for (probe = hi - step; probe >= from; probe = hi - step) {
      if (isBelow(probe)) {
        lo = probe;
        break;
      }
      hi = probe;
      step *= 2;
    }
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (isBelow(mid)) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * Ranks that bound the p-quantile after n observations, at level α (two-sided: both bounds
 * hold together, at all n, with probability ≥ 1 − α).
 */
export function quantileRankBounds(n: number, p: number, alpha: number): RankBounds {
  if (n <= 0) return { lowerRank: 0, upperRank: 1 };
  const logThreshold = Math.log(1 / alpha);
  const c = priorConcentration(logThreshold);
  const a = c * p;
  const b = c * (1 - p);
  const constant = logGamma(c) - logGamma(a) - logGamma(b) - logGamma(c + n);
  const logP = Math.log(p);
  const logQ = Math.log1p(-p);
  // log M_n(s) = ln B(a + s, b + n − s) − ln B(a, b) − s ln p − (n − s) ln(1 − p).
  const logMartingale = (s: number): number =>
    constant + logGamma(a + s) + logGamma(b + n - s) - s * logP - (n - s) * logQ;
  const rejects = (s: number): boolean => logMartingale(s) >= logThreshold;
  const centre = Math.min(n, Math.max(0, Math.floor(p * n)));
  if (rejects(centre)) return { lowerRank: 0, upperRank: n + 1 };
  // Normal-mixture approximation of the boundary as a starting guess only.
  const v = n * p * (1 - p);
  const rho = c * p * (1 - p);
  const halfWidth = Math.sqrt((v + rho) * (Math.log((v + rho) / rho) + 2 * logThreshold));
  // Counts in [lowerRank, centre] are accepted; below lowerRank rejected (M_n is convex in s).
  const lowerRank = centre === 0 || !rejects(0) ? 0 : findBoundary(rejects, 0, centre, p * n - halfWidth);
  // Counts in [centre, upperRank − 1] are accepted; from upperRank on rejected.
  const upperRank = findBoundary((s) => !rejects(s), centre, n, p * n + halfWidth);
  return { lowerRank, upperRank };
}

/** Bands already computed for a counts object (counts are never mutated once stored). */
const bandCache = new WeakMap<BucketCounts, Map<string, QuantileBand>>();

/** Anytime-valid band for the p-quantile of the observations in `counts`, at level α. */
export function quantileBand(counts: BucketCounts, p: number, alpha: number): QuantileBand {
  const n = counts.total;
  if (n === 0) return { estimateMs: null, lowerMs: 0, upperMs: Infinity };
  let cached = bandCache.get(counts);
  if (cached === undefined) bandCache.set(counts, (cached = new Map<string, QuantileBand>()));
  const key = `${p}/${alpha}`;
  const hit = cached.get(key);
  if (hit !== undefined) return hit;
  const { lowerRank, upperRank } = quantileRankBounds(n, p, alpha);
  const estimateRank = Math.max(1, Math.ceil(p * n));
  const [lowerBucket, estimateBucket, upperBucket] = bucketsOfRanks(counts, [
    Math.max(1, lowerRank),
    estimateRank,
    Math.min(n, Math.max(estimateRank, upperRank)),
  ]) as [number, number, number];
  // A rank's true value lies inside its bucket: take the far edge on each side.
  const lowerMs = lowerRank >= 1 ? bucketLowerBound(lowerBucket) : 0;
  const upperMs = upperRank <= n ? bucketUpperEdge(upperBucket) : Infinity;
  const estimateMs = bucketValue(estimateBucket);
  const band = { estimateMs, lowerMs, upperMs };
  cached.set(key, band);
  return band;
}
