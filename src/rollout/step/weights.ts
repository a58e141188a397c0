/**
 * Strategy choice and weight maths, after Flagger's scheduler (nextStepWeight, maxWeight,
 * runPromotionTrafficShift). One deliberate difference: a step never goes past `maxWeight`
 * (Flagger clamps at 100, so stepWeight 30 with maxWeight 50 reaches 60), and a weight that
 * is not on the `stepWeights` list (set by hand) moves to the next entry above it rather
 * than to 100.
 */
import type { AnalysisSpec } from '../../config/app-schema.js';

/** How traffic reaches the canary during the analysis. */
export type Strategy = 'canary' | 'ab' | 'blue-green';

/** Total weight of a route (Flagger's totalWeight). */
export const TOTAL_WEIGHT = 100;

/** `match` + `iterations` → A/B testing; `iterations` only → blue/green; otherwise a weighted canary. */
export function strategyOf(analysis: Pick<AnalysisSpec, 'match' | 'iterations'>): Strategy {
  const iterations = analysis.iterations ?? 0;
  if (iterations > 0 && analysis.match.length > 0) return 'ab';
  if (iterations > 0) return 'blue-green';
  return 'canary';
}

function clampWeight(weight: number): number {
  if (!Number.isFinite(weight)) return 0;
  return Math.min(TOTAL_WEIGHT, Math.max(0, Math.round(weight)));
}

/**
 * The canary weight after one more step from `current`: the next `stepWeights` entry
 * above it, or `current + stepWeight`; never above `maxWeight`, never below `current`.
 * At or above `maxWeight` the weight stays where it is (the next move is promotion).
 */
export function nextWeight(
  analysis: Pick<AnalysisSpec, 'stepWeight' | 'stepWeights' | 'maxWeight'>,
  current: number,
): number {
  const from = clampWeight(current);
  const max = clampWeight(analysis.maxWeight);
  if (from >= max) return from;
  const step = analysis.stepWeight ?? 0;
  const candidate =
    analysis.stepWeights.length > 0 ? (analysis.stepWeights.find((w) => w > from) ?? max) : from + step;
  return Math.max(from, Math.min(max, clampWeight(candidate)));
}

/** The weights a canary passes through from 0 up to `maxWeight`, in order. */
export function weightSchedule(
  analysis: Pick<AnalysisSpec, 'stepWeight' | 'stepWeights' | 'maxWeight'>,
): number[] {
  const weights: number[] = [];
  let weight = 0;
  for (;;) {
    const next = nextWeight(analysis, weight);
    if (next === weight) return weights;
    weights.push(next);
    weight = next;
  }
}

/**
 * The canary weight after one promotion step from `canaryWeight`: all traffic back to
 * the primary at once (0) unless `stepWeightPromotion` is set, then that much less.
 */
export function nextPromotionWeight(canaryWeight: number, stepWeightPromotion: number | undefined): number {
  const from = clampWeight(canaryWeight);
  if (stepWeightPromotion === undefined || !(stepWeightPromotion > 0)) return 0;
  return Math.max(0, from - Math.max(1, clampWeight(stepWeightPromotion)));
}

/** The canary weights of a stepwise promotion from `canaryWeight` down to 0, in order. */
export function promotionSchedule(canaryWeight: number, stepWeightPromotion: number | undefined): number[] {
  const weights: number[] = [];
  let weight = clampWeight(canaryWeight);
  while (weight > 0) {
    weight = nextPromotionWeight(weight, stepWeightPromotion);
    weights.push(weight);
  }
  return weights;
}

/**
 * Weight of the fresh baseline (docs/adr/0018-fresh-baseline.md): while one runs, the canary's
 * own weight, taken from the primary, so the judge compares two versions that are equally cold
 * and equally loaded; 0 when none runs. Never more than what the canary leaves (an operator's
 * weight above 50), so the primary's share `TOTAL_WEIGHT − canary − baseline` is never negative.
 */
export function baselineWeight(canaryWeight: number, baselineRunning: boolean): number {
  const canary = clampWeight(canaryWeight);
  return baselineRunning ? Math.min(canary, TOTAL_WEIGHT - canary) : 0;
}
