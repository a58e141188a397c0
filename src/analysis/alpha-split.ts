/**
 * How the sequential judge spends its total false-rollback budget α (`analysis.judge.alpha`)
 * between its tests: one share for the error count, the rest split evenly across the latency
 * quantiles and the tail test (Bonferroni), so the whole rollout stays within α however often
 * the judge looks. A false rollback needs some test to reject at its level; the levels add up
 * to α. (Inside the tail test, its levels' e-processes are averaged, which spends no more α.)
 */
import type { JudgeConfig } from '../config/app-judge.js';

/**
 * Share of α given to the error-count test; the rest goes to latency. Errors get most because
 * error regressions are the common case and their evidence (rare events) is the scarcest;
 * latency evidence accrues from every request.
 */
export const ERROR_ALPHA_SHARE = 0.75;

/** How α is spent: one share for errors, the rest split evenly across latency quantiles. */
export interface AlphaSplit {
  readonly total: number;
  readonly errors: number;
  /** Level of the tail test over the whole latency distribution (tail-test.ts). */
  readonly tail: number;
  /** For each quantile: both the exceedance test and the pair of bands use this level. */
  readonly perQuantile: number;
  /** Level of each version's two-sided band at each quantile (Bonferroni over 2 versions). */
  readonly perBand: number;
}

/**
 * Splits α: errors get {@link ERROR_ALPHA_SHARE}; latency the rest, in equal parts to each
 * quantile and to the tail test, which counts as one more latency test (Bonferroni).
 */
export function splitAlpha(config: Pick<JudgeConfig, 'alpha' | 'quantiles'>): AlphaSplit {
  const errors = config.alpha * ERROR_ALPHA_SHARE;
  const perLatencyTest = (config.alpha - errors) / (config.quantiles.length + 1);
  return {
    total: config.alpha,
    errors,
    tail: perLatencyTest,
    perQuantile: perLatencyTest,
    perBand: perLatencyTest / 2,
  };
}
