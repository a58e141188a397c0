/**
 * The tail test: one sequential test over the whole latency distribution, made to see tail
 * regressions that per-quantile tests miss (0.2% of requests stalled +2 s; 1% of requests
 * +300 ms). Netflix compares latency histograms bucket by bucket with a multinomial count test
 * (Lindon & Malek, NeurIPS 2022; Lindon et al., KDD 2022); this is its one-sided form over the
 * router's LatencySketch buckets, conditioned per evidence block.
 *
 * Construction. Each threshold of {@link TAIL_THRESHOLDS} is a bucket edge t_ℓ read from the
 * primary's counts before a block opens (a multiple of one of its running quantiles). For each
 * closed block and threshold, the exceedance test of exceedance-test.ts reads how many of the
 * block's requests slower than t_ℓ (the canary's threshold raised by the minimum effect) were
 * the canary's, given how many there were and the canary's share of the block: a binomial count
 * test on the canary's share of the buckets above t_ℓ, mixed over δ > 0. Its running product
 * M_ℓ is a test supermartingale with respect to the blocks (exceedance-test.ts, ADR 0002), and
 * every M_ℓ is adapted to the same filtration (all data up to each block's close). The tail
 * test's e-process is the mixture E = Σ_ℓ w_ℓ M_ℓ with fixed weights summing to 1; a convex
 * combination of test supermartingales for one filtration is one (E[E_b | F_{b−1}] =
 * Σ w_ℓ E[M_ℓ,b | F_{b−1}] ≤ Σ w_ℓ M_ℓ,b−1), so by Ville's inequality P(sup E ≥ 1/α) ≤ α under
 * H0, at every look and across weight steps (E changes only when a block closes; looks in
 * between read the same value). All thresholds together spend α once.
 *
 * Why nested tails rather than a Dirichlet–multinomial over disjoint buckets: conditioned on
 * per-bucket totals, a Dirichlet mixture over the canary's share of each bucket is two-sided (it
 * would roll back a faster canary), and under the judge's null, "the canary is stochastically at
 * most the primary raised by the minimum effect", the canary's share of one bucket of the body
 * may exceed its traffic share (mass moving within the body), so a per-bucket factor can have a
 * mean above 1. Only tail events ("slower than t") have a share the null bounds, for every t;
 * the mixture over thresholds then covers a shift wherever it sits, paying ln(1/w_ℓ) nats for not
 * knowing where. A canary request above a threshold the primary almost never reaches is worth
 * up to ln(1/ρ) nats (ρ the canary's share of the block): no test that, like this one, must
 * ignore incidents shared by both versions can get more from it.
 */
import { bucketOfRank, bucketUpperEdge, type BucketCounts } from './bucket-counts.js';
import type { EvidenceBlock } from './evidence-block.js';
import { updateExceedanceAt, type ExceedanceState, type MinEffect } from './exceedance-test.js';
import { bucketIndex } from './latency-sketch.js';
import { logAddExp } from './special-functions.js';

/** One threshold of the tail test: a multiple of one of the primary's running quantiles. */
export interface TailThreshold {
  /** Level of the primary's running quantile (0.999 = p99.9). */
  readonly level: number;
  /** The threshold is this multiple of that quantile (1 = the quantile itself). */
  readonly multiple: number;
  /** Weight of this threshold's e-process in the mixture (the weights sum to 1). */
  readonly weight: number;
  /** Scale of the normal prior on δ (restricted to δ > 0) at this threshold. */
  readonly priorScale: number;
}

/**
 * The thresholds and their weights. The body levels let the test see any shift; most weight
 * goes to the far tail, which per-quantile tests do not see: 2× and 5× the primary's p99.9
 * (about 270 ms and 670 ms for the bench's latency, beyond ~1e-6 and ~1e-12 of the primary's
 * requests), so a request slower than that is almost surely the canary's doing. Multiples of a
 * quantile rather than higher quantiles: a p99.99 estimate is the primary's running maximum for
 * its first 10,000 requests, and each new primary maximum would count against the canary. Those
 * thresholds see shares ×10 to ×1000 (δ ≈ 2.3 to 7), so their prior is nearly flat on the grid's
 * δ ∈ (0, 6]; the body's is N(0, 3²), wider than the error test's (a tail's share moves more).
 */
export const TAIL_THRESHOLDS: readonly TailThreshold[] = [
  { level: 0.5, multiple: 1, weight: 0.1, priorScale: 3 },
  { level: 0.9, multiple: 1, weight: 0.1, priorScale: 3 },
  { level: 0.99, multiple: 1, weight: 0.15, priorScale: 3 },
  { level: 0.999, multiple: 1, weight: 0.15, priorScale: 3 },
  { level: 0.999, multiple: 2, weight: 0.25, priorScale: 6 },
  { level: 0.999, multiple: 5, weight: 0.25, priorScale: 6 },
];

/** Key of a threshold in states and in a block's thresholds (`"0.999"`, `"0.999x2"`). */
export function tailKey(threshold: Pick<TailThreshold, 'level' | 'multiple'>): string {
  return threshold.multiple === 1 ? String(threshold.level) : `${threshold.level}x${threshold.multiple}`;
}

/**
 * Each threshold's primary bucket from the primary's counts so far, fixed when a block opens,
 * before any of its data is seen. None before the primary has served a request.
 */
export function tailThresholdBuckets(primary: BucketCounts): Record<string, number> {
  const thresholds: Record<string, number> = {};
  if (primary.total === 0) return thresholds;
  for (const t of TAIL_THRESHOLDS) {
    const quantileBucket = bucketOfRank(primary, Math.max(1, Math.ceil(t.level * primary.total)));
    // The bucket holding the multiple of the quantile bucket's upper edge: every primary value
    // counted (its whole bucket above this one) is above the multiple.
    thresholds[tailKey(t)] =
      t.multiple === 1 ? quantileBucket : bucketIndex(t.multiple * bucketUpperEdge(quantileBucket));
  }
  return thresholds;
}

/** Serialisable state of the tail test. */
export interface TailTestState {
  /** One exceedance test per threshold, keyed by {@link tailKey}. */
  readonly levels: Readonly<Record<string, ExceedanceState>>;
  /** ln E, E = Σ_ℓ w_ℓ M_ℓ (thresholds not started count M_ℓ = 1). */
  readonly logEValue: number;
  /** Running maximum of {@link logEValue}; the p-value is exp(−max). */
  readonly maxLogEValue: number;
}

/** No evidence yet: every M_ℓ = 1, so E = 1. */
export function initTailTest(): TailTestState {
  return { levels: {}, logEValue: 0, maxLogEValue: 0 };
}

/** Feeds one closed block, whose thresholds include {@link tailThresholdBuckets}, to every threshold. */
export function updateTailTest(
  state: TailTestState,
  block: EvidenceBlock,
  minEffect: MinEffect,
): TailTestState {
  const served = block.primary.latency.total + block.canary.latency.total;
  if (served === 0) return state;
  const levels: Record<string, ExceedanceState> = { ...state.levels };
  for (const t of TAIL_THRESHOLDS) {
    const key = tailKey(t);
    const primaryIndex = block.primaryThresholdBucket[key];
    if (primaryIndex === undefined) continue;
    levels[key] = updateExceedanceAt(levels[key], block, primaryIndex, minEffect, t.priorScale);
  }
  let logEValue = -Infinity;
  for (const t of TAIL_THRESHOLDS)
    logEValue = logAddExp(logEValue, Math.log(t.weight) + (levels[tailKey(t)]?.test.logBayesFactor ?? 0));
  return { levels, logEValue, maxLogEValue: Math.max(state.maxLogEValue, logEValue) };
}

/** What one threshold has seen: which requests count as slow and how many were. */
export interface TailThresholdEvidence {
  readonly level: number;
  readonly multiple: number;
  /** Primary requests slower than this count (`multiple` × its running `level`-quantile). */
  readonly primaryThresholdMs: number | null;
  /** Canary requests slower than this count (the primary's threshold + the minimum effect). */
  readonly canaryThresholdMs: number | null;
  readonly primarySlow: number;
  readonly canarySlow: number;
  /** Slow canary requests expected had the canary behaved like the primary. */
  readonly canaryExpected: number;
  readonly logEValue: number;
}

/** Evidence of the tail test. */
export interface TailEvidence {
  readonly thresholds: readonly TailThresholdEvidence[];
  readonly logEValue: number;
  readonly pValue: number;
  readonly alpha: number;
  readonly regression: boolean;
}

/** Reads the tail test at level `alpha` (its share, see `splitAlpha`). */
export function assessTail(state: TailTestState | undefined, alpha: number): TailEvidence {
  const tail = state ?? initTailTest();
  // min over time of 1/E, never increasing: valid under continuous monitoring (Ville).
  const pValue = Math.min(1, Math.exp(-tail.maxLogEValue));
  return {
    thresholds: TAIL_THRESHOLDS.map(({ level, multiple }) => {
      const s = tail.levels[tailKey({ level, multiple })];
      return {
        level,
        multiple,
        primaryThresholdMs: s?.primaryThresholdMs ?? null,
        canaryThresholdMs: s?.canaryThresholdMs ?? null,
        primarySlow: s?.test.primaryEvents ?? 0,
        canarySlow: s?.test.canaryEvents ?? 0,
        canaryExpected: s?.canaryExpected ?? 0,
        logEValue: s?.test.logBayesFactor ?? 0,
      };
    }),
    logEValue: tail.logEValue,
    pValue,
    alpha,
    regression: pValue <= alpha,
  };
}

/**
 * One line naming the tail that shifted most, e.g. "latency tail: 9 canary requests > 296.2 ms
 * where 0.0 were expected (primary 2× p99.9 269.1 ms: 0 slower; p = 0.00041 ≤ 0.00062)".
 */
export function describeTailRegression(tail: TailEvidence): string {
  const worst = tail.thresholds.reduce((a, b) => (b.logEValue > a.logEValue ? b : a));
  const ms = (v: number | null) => (v === null ? '?' : `${v.toFixed(1)} ms`);
  const where = `${worst.multiple === 1 ? '' : `${worst.multiple}× `}p${Math.round(worst.level * 1e6) / 1e4}`;
  const test = `p = ${tail.pValue.toPrecision(2)} ≤ ${tail.alpha.toPrecision(2)}`;
  return `latency tail: ${worst.canarySlow} canary requests > ${ms(worst.canaryThresholdMs)} where ${worst.canaryExpected.toFixed(1)} were expected (primary ${where} ${ms(worst.primaryThresholdMs)}: ${worst.primarySlow} slower; ${test})`;
}
