/**
 * How the sequential judge spends its total false-rollback budget α (`analysis.judge.alpha`)
 * between its tests: one share for the error count, the rest split evenly across the latency
 * quantiles (Bonferroni), so the whole rollout stays within α however often the judge looks.
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
  /** For each quantile: both the exceedance test and the pair of bands use this level. */
  readonly perQuantile: number;
  /** Level of each version's two-sided band at each quantile (Bonferroni over 2 versions). */
  readonly perBand: number;
}

/** Splits α: errors get {@link ERROR_ALPHA_SHARE}, latency the rest (Bonferroni). */
export function splitAlpha(config: Pick<JudgeConfig, 'alpha' | 'quantiles'>): AlphaSplit {
  const errors = config.alpha * ERROR_ALPHA_SHARE;
  const perQuantile = (config.alpha - errors) / config.quantiles.length;
  return { total: config.alpha, errors, perQuantile, perBand: perQuantile / 2 };
}
