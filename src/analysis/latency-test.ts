/**
 * The judge's latency test, per configured quantile (the tail test over the whole distribution
 * is tail-test.ts; its state is kept here, beside the counts it reads).
 *
 * Decides: the exceedance test (exceedance-test.ts), the count test of count-test.ts on
 * "requests slower than a threshold", the threshold being the primary's running quantile estimate (fixed before the
 * block it is applied to, so it is predictable) and, for the canary, that value raised by the
 * minimum relevant effect. Given that a slow request happened, it came from the canary with
 * probability at most its traffic share unless the canary is relevantly slower. It compares the
 * versions block by block, so it stays valid when latency drifts for both versions while
 * weights change, where per-version bands (which assume a stationary distribution) do not: see
 * docs/adr/0002-sequential-judge.md. A regression also needs the point estimates to differ by
 * more than the minimum effect (a fixed rule that spends no α and can only veto).
 *
 * Shows: each version's time-uniform quantile band (Howard & Ramdas, Bernoulli 2022; see
 * quantile-confidence.ts), the effect people read and the basis of non-inferiority. The bands
 * used to be required as well; that delayed detection (83 s vs 58 s for +30 % in the
 * bench) and added no validity the exceedance test lacks.
 */
import { bucketOfRank, EMPTY_BUCKET_COUNTS, mergeBucketCounts, type BucketCounts } from './bucket-counts.js';
import { countTestPValue, initCountTest } from './count-test.js';
import type { EvidenceBlock } from './evidence-block.js';
import {
  relevantThresholdMs,
  updateExceedanceAt,
  type ExceedanceState,
  type MinEffect,
} from './exceedance-test.js';
import { quantileBand, type QuantileBand } from './quantile-confidence.js';
import { initTailTest, type TailTestState } from './tail-test.js';
import { addToEachVersion, type VersionPair } from './version-pair.js';

export { relevantThresholdMs, type ExceedanceState, type MinEffect } from './exceedance-test.js';

/**
 * Scale of the exceedance tests' prior on δ. Latency regressions worth catching move the share
 * of slow requests by ×1.3 to ×3 (δ ≈ 0.25 to 1.1), smaller than the error test's, so the prior
 * sits nearer zero: +30 % is caught in 53 s instead of 58 s in the bench (0.5 did no better).
 */
export const LATENCY_PRIOR_SCALE = 1;

/** Serialisable latency state: cumulative bucket counts and one exceedance test per quantile. */
export interface LatencyTestState {
  readonly primary: BucketCounts;
  readonly canary: BucketCounts;
  /** Keyed by the quantile as a string (`"0.99"`). */
  readonly exceedance: Readonly<Record<string, ExceedanceState>>;
  /** The tail test (tail-test.ts); absent in states saved before it existed. */
  readonly tail?: TailTestState;
}

/** Fresh latency state. */
export function initLatencyTest(): LatencyTestState {
  return { primary: EMPTY_BUCKET_COUNTS, canary: EMPTY_BUCKET_COUNTS, exceedance: {}, tail: initTailTest() };
}

/** Adds one window to the cumulative counts the bands are read from. */
export function addLatencyWindow(
  state: LatencyTestState,
  window: VersionPair<BucketCounts>,
): LatencyTestState {
  return addToEachVersion(state, window, mergeBucketCounts);
}

/**
 * The primary's running estimate of each quantile, as a bucket index, from the data so far.
 * A block's exceedance thresholds are fixed with this when it opens, before any of its data is
 * seen, so each block's test factor stays valid.
 */
export function primaryThresholdBuckets(
  state: LatencyTestState,
  quantiles: readonly number[],
): Record<string, number> {
  const thresholds: Record<string, number> = {};
  const total = state.primary.total;
  if (total === 0) return thresholds;
  for (const q of quantiles)
    thresholds[String(q)] = bucketOfRank(state.primary, Math.max(1, Math.ceil(q * total)));
  return thresholds;
}

/** Feeds a closed block to every quantile's exceedance test. */
export function updateExceedance(
  state: LatencyTestState,
  block: EvidenceBlock,
  quantiles: readonly number[],
  minEffect: MinEffect,
): LatencyTestState {
  const served = block.primary.latency.total + block.canary.latency.total;
  const exceedance: Record<string, ExceedanceState> = { ...state.exceedance };
  for (const q of quantiles) {
    const key = String(q);
    const primaryIndex = block.primaryThresholdBucket[key];
    if (primaryIndex === undefined || served === 0) continue;
    exceedance[key] = updateExceedanceAt(
      exceedance[key],
      block,
      primaryIndex,
      minEffect,
      LATENCY_PRIOR_SCALE,
    );
  }
  return { ...state, exceedance };
}

/** Evidence for one quantile. Bounds are in ms; null means unbounded. */
export interface LatencyQuantileEvidence {
  readonly quantile: number;
  readonly primary: BandEvidence;
  readonly canary: BandEvidence;
  /** Canary minus primary point estimates, in ms (null until both have data). */
  readonly differenceMs: number | null;
  /** The canary's lower bound exceeds this when the bands alone show a relevant regression. */
  readonly relevantAboveMs: number | null;
  readonly exceedance: {
    readonly primaryThresholdMs: number | null;
    readonly canaryThresholdMs: number | null;
    readonly primarySlow: number;
    readonly canarySlow: number;
    readonly logEValue: number;
    readonly pValue: number;
  };
  readonly alpha: number;
  readonly regression: boolean;
}

/** One version's band, serialisable (Infinity becomes null). */
export interface BandEvidence {
  readonly count: number;
  readonly estimateMs: number | null;
  readonly lowerMs: number | null;
  readonly upperMs: number | null;
}

function bandEvidence(count: number, band: QuantileBand): BandEvidence {
  return {
    count,
    estimateMs: band.estimateMs,
    lowerMs: band.lowerMs > 0 ? band.lowerMs : null,
    upperMs: Number.isFinite(band.upperMs) ? band.upperMs : null,
  };
}

/**
 * Reads every quantile: `perQuantile` is the level of each exceedance test and `perBand` that
 * of each version's band (see `splitAlpha`).
 */
export function assessLatency(
  state: LatencyTestState,
  quantiles: readonly number[],
  minEffect: MinEffect,
  levels: { readonly perQuantile: number; readonly perBand: number },
): LatencyQuantileEvidence[] {
  return quantiles.map((q) => {
    const primaryBand = quantileBand(state.primary, q, levels.perBand);
    const canaryBand = quantileBand(state.canary, q, levels.perBand);
    const exceedance = state.exceedance[String(q)];
    const test = exceedance?.test ?? initCountTest(LATENCY_PRIOR_SCALE);
    const pValue = countTestPValue(test);
    const relevantAboveMs = Number.isFinite(primaryBand.upperMs)
      ? relevantThresholdMs(primaryBand.upperMs, minEffect)
      : null;
    const effectExceedsMinimum =
      canaryBand.estimateMs !== null &&
      primaryBand.estimateMs !== null &&
      canaryBand.estimateMs > relevantThresholdMs(primaryBand.estimateMs, minEffect);
    return {
      quantile: q,
      primary: bandEvidence(state.primary.total, primaryBand),
      canary: bandEvidence(state.canary.total, canaryBand),
      differenceMs:
        canaryBand.estimateMs !== null && primaryBand.estimateMs !== null
          ? canaryBand.estimateMs - primaryBand.estimateMs
          : null,
      relevantAboveMs,
      exceedance: {
        primaryThresholdMs: exceedance?.primaryThresholdMs ?? null,
        canaryThresholdMs: exceedance?.canaryThresholdMs ?? null,
        primarySlow: test.primaryEvents,
        canarySlow: test.canaryEvents,
        logEValue: test.logBayesFactor,
        pValue,
      },
      alpha: levels.perQuantile,
      regression: effectExceedsMinimum && pValue <= levels.perQuantile,
    };
  });
}
