/**
 * How the sequential judge spends its total false-rollback budget α (`analysis.judge.alpha`)
 * between its tests: one share for the error count, the rest between the tail test and the
 * latency quantiles (Bonferroni), so the whole rollout stays within α however often
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

/** Share of the latency part of α given to the tail test; the quantiles split the rest. */
export const TAIL_ALPHA_SHARE = 0.5;

/**
 * Splits α: errors get {@link ERROR_ALPHA_SHARE}; latency the rest, half to the tail test and
 * half split evenly across the quantiles (Bonferroni). The tail test is the only one that sees
 * tail regressions, and a smaller share costs the quantiles ln 1.5 to ln 2 nats. In the
 * simulation of tail-test.test.ts (200 runs), compared with an equal split: latency +30% is
 * caught in 64 s median instead of 63 s, stalls on 0.2% of requests within 5 minutes in 62% of
 * runs instead of 52%.
 */
export function splitAlpha(config: Pick<JudgeConfig, 'alpha' | 'quantiles'>): AlphaSplit {
  const errors = config.alpha * ERROR_ALPHA_SHARE;
  const latency = config.alpha - errors;
  const perQuantile = (latency * (1 - TAIL_ALPHA_SHARE)) / config.quantiles.length;
  return {
    total: config.alpha,
    errors,
    tail: latency * TAIL_ALPHA_SHARE,
    perQuantile,
    perBand: perQuantile / 2,
  };
}
