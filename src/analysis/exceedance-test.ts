/**
 * One exceedance test: the count test of count-test.ts on "requests slower than a threshold",
 * the threshold being a primary bucket fixed before the block it is applied to and, for the
 * canary, that value raised by the minimum relevant effect. The per-quantile latency tests
 * (latency-test.ts) and the tail test (tail-test.ts) are made of these.
 *
 * Why it is valid: under H0 "at every moment the canary's latency is stochastically at most
 * the primary's raised by the minimum effect", P(canary > g(t)) ≤ P(primary > t) for the
 * raised threshold g(t), so given that a block produced n slow requests, the canary's share of
 * them has odds at most its share of the block's requests (δ ≤ 0 in count-test.ts terms). The
 * count test's one-sided factor increases with the canary's count, so its conditional mean is
 * then at most its mean at δ = 0, which is ≤ 1 (docs/adr/0002-sequential-judge.md).
 */
import { bucketIndex } from './latency-sketch.js';
import { bucketUpperEdge, countAboveBucket } from './bucket-counts.js';
import { initCountTest, updateCountTest, type CountTestState } from './count-test.js';
import type { EvidenceBlock } from './evidence-block.js';

/** Minimum relevant latency increase: it must exceed both parts. */
export interface MinEffect {
  readonly relative: number;
  readonly absoluteMs: number;
}

/** The smallest value the canary must exceed to be relevantly slower than `ms`. */
export function relevantThresholdMs(ms: number, minEffect: MinEffect): number {
  return Math.max(ms * (1 + minEffect.relative), ms + minEffect.absoluteMs);
}

/** Exceedance test at one threshold, with the thresholds its last block used. */
export interface ExceedanceState {
  readonly test: CountTestState;
  readonly primaryThresholdMs: number | null;
  readonly canaryThresholdMs: number | null;
  /**
   * Slow canary requests expected under "no difference": Σ over blocks of the block's slow
   * requests × the canary's share of the block. Absent in states saved before it existed.
   */
  readonly canaryExpected?: number;
}

/**
 * Feeds one closed block to the exceedance test at the primary bucket `primaryIndex` (fixed
 * when the block opened); a test not yet started begins with a normal prior of `priorScale`.
 */
export function updateExceedanceAt(
  previous: ExceedanceState | undefined,
  block: EvidenceBlock,
  primaryIndex: number,
  minEffect: MinEffect,
  priorScale: number,
): ExceedanceState {
  const served = block.primary.latency.total + block.canary.latency.total;
  const primaryThresholdMs = bucketUpperEdge(primaryIndex);
  // A canary value counts only when its whole bucket lies above the raised threshold, and a
  // primary value whenever its bucket does: bucketing can then only hide canary slowness.
  const canaryIndex = bucketIndex(relevantThresholdMs(primaryThresholdMs, minEffect));
  const canaryEvents = countAboveBucket(block.canary.latency, canaryIndex);
  const primaryEvents = countAboveBucket(block.primary.latency, primaryIndex);
  const canaryShare = served === 0 ? 0 : block.canary.latency.total / served;
  return {
    test: updateCountTest(previous?.test ?? initCountTest(priorScale), {
      canaryEvents,
      primaryEvents,
      canaryShare,
    }),
    primaryThresholdMs,
    canaryThresholdMs: bucketUpperEdge(canaryIndex),
    canaryExpected: (previous?.canaryExpected ?? 0) + (canaryEvents + primaryEvents) * canaryShare,
  };
}
