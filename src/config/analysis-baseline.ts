/**
 * `analysis.baseline`: what the sequential judge compares the canary with, and what the
 * `fresh` choice needs of the rest of the analysis block (docs/adr/0018-fresh-baseline.md).
 */
import type { z } from 'zod';

/**
 * What the judge compares the canary with (`analysis.baseline`): `primary`, the warm version
 * serving most traffic (default), or `fresh`, a new copy of the primary's revision started
 * with the canary and given the same weight, so both are equally cold (Kayenta's baseline;
 * docs/adr/0018-fresh-baseline.md).
 */
export const BASELINE_KINDS = ['primary', 'fresh'] as const;

/**
 * Largest canary weight with `baseline: fresh`: the baseline takes as much traffic as the
 * canary, so the primary keeps 100 − 2 × the canary's weight.
 */
export const FRESH_BASELINE_MAX_WEIGHT = 50;

/** One of {@link BASELINE_KINDS}. */
export type BaselineKind = (typeof BASELINE_KINDS)[number];

/**
 * What `baseline: fresh` needs: the judge, whose reference the baseline is; a weighted canary
 * (blue/green and A/B give the canary no weight a baseline could match); and room for two
 * shares of the canary's weight beside the primary.
 */
export function freshBaselineIssues(
  a: {
    maxWeight?: number | undefined;
    stepWeights: readonly number[];
    iterations?: number | undefined;
    judge?: unknown;
  },
  ctx: z.RefinementCtx,
): void {
  const room = `the fresh baseline takes as much traffic as the canary and the primary gets 100 - 2 x the canary's weight; lower it or use baseline: primary`;
  if (a.judge === false) {
    ctx.addIssue({
      code: 'custom',
      path: ['baseline'],
      message:
        'baseline: fresh is what the judge compares the canary with, but judge is false; turn the judge on or use baseline: primary',
    });
  }
  if ((a.iterations ?? 0) > 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['baseline'],
      message:
        'baseline: fresh needs a weighted canary: with iterations (blue/green, A/B) the canary has no weight for a baseline to match; remove iterations or use baseline: primary',
    });
  }
  if (a.maxWeight !== undefined && a.maxWeight > FRESH_BASELINE_MAX_WEIGHT) {
    ctx.addIssue({
      code: 'custom',
      path: ['maxWeight'],
      message: `expected at most ${FRESH_BASELINE_MAX_WEIGHT} with baseline: fresh, got ${a.maxWeight}: ${room}`,
    });
  }
  const last = a.stepWeights.length - 1;
  const top = a.stepWeights[last];
  if (top !== undefined && top > FRESH_BASELINE_MAX_WEIGHT && a.maxWeight === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['stepWeights', last],
      message: `expected at most ${FRESH_BASELINE_MAX_WEIGHT} with baseline: fresh, got ${top}: ${room}`,
    });
  }
}
