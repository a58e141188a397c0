/**
 * The schema of `analysis.judge`: the sequential judge's settings, their defaults and limits.
 * How the judge spends its α is analysis/alpha-split.ts.
 */
import { z } from 'zod';
import { durationMs } from './field-schemas.js';
import { parseOrThrow } from './schema-issues.js';

/** Schema of `analysis.judge`. Every field is optional; defaults are set here. */
export const judgeConfigSchema = z.strictObject({
  /**
   * Total probability of rolling back a canary that is not worse than the primary, over the
   * whole rollout however often the judge looks. Default 0.01.
   */
  alpha: z.number().gt(0).lt(0.5).default(0.01),
  /**
   * How often the regression tests look at the router's counts, whatever `analysis.interval`
   * is: a regression found at a look rolls back at once. Steps still advance on the interval.
   * Default 1s; from 100ms to 1m.
   */
  lookInterval: durationMs
    .pipe(z.number().min(100, 'expected at least 100ms').max(60_000, 'expected at most 1m'))
    .default(1_000),
  /** Latency quantiles to compare, each in (0, 1). Default p50, p90, p99. */
  quantiles: z
    .array(z.number().gt(0).lt(1))
    .min(1)
    .max(10)
    .default([0.5, 0.9, 0.99])
    .refine((qs) => new Set(qs).size === qs.length, { message: 'expected distinct quantiles' }),
  /**
   * Smallest latency increase worth a rollback. An increase counts only when it exceeds both
   * `relative` (0.1 = +10%) and `absoluteMs`. Defaults: +10% and +5 ms.
   */
  minEffect: z
    .strictObject({
      relative: z.number().min(0).max(10).default(0.1),
      absoluteMs: z.number().min(0).default(5),
    })
    .default({ relative: 0.1, absoluteMs: 5 }),
  /**
   * Canary requests (since the judge started) needed before a step may advance. Default 100:
   * below that even the canary's p99 is not defined by a single request.
   */
  minCanaryRequests: z.number().int().min(0).default(100),
  /**
   * Opt-in early promotion once non-inferiority is shown: the canary's error rate is shown to
   * be below (1 + margin) × the primary's, and each quantile below (1 + margin) × the
   * primary's. Safe only under the conditions in docs/adr/0002-sequential-judge.md.
   */
  earlyPromotion: z
    .strictObject({
      nonInferiorityMargin: z.number().gt(0).max(10),
    })
    .optional(),
});

/** Validated judge settings with defaults applied. */
export type JudgeConfig = z.output<typeof judgeConfigSchema>;

/** Defaults (what `analysis.judge: {}` means). */
export const DEFAULT_JUDGE_CONFIG: JudgeConfig = judgeConfigSchema.parse({});

/**
 * Validates user input for `analysis.judge`; throws `ConfigError` (code AVIARY_CONFIG_INVALID)
 * naming each bad field, e.g. `analysis.judge.alpha: expected a number < 0.5, got 2`.
 */
export function parseJudgeConfig(input: unknown, source = 'analysis.judge'): JudgeConfig {
  return parseOrThrow(judgeConfigSchema, input ?? {}, source);
}
