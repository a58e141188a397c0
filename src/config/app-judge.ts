/**
 * The schema of `analysis.judge`: the sequential judge's settings, their defaults and limits.
 * How the judge spends its α is analysis/alpha-split.ts.
 */
import { z } from 'zod';
import { durationMs } from './field-schemas.js';
import { parseOrThrow } from './schema-issues.js';

/** Default `maxHarm.errorRate`: +0.5 percentage point, or twice the primary's rate if larger. */
const DEFAULT_MAX_ERROR_EXCESS = { absolute: 0.005, relative: 1 };
/** Default `maxHarm.latency`: +25%, or +10 ms if larger, at each quantile. */
const DEFAULT_MAX_LATENCY_EXCESS = { relative: 0.25, absoluteMs: 10 };

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
   * The worst canary acceptable (docs/adr/0015-harm-bounds.md). Promotion needs the judge's
   * anytime-valid bounds to show the canary within maxHarm on errors and at every quantile; a
   * step to weight w needs its error-rate excess × w/100 shown within maxHarm (the share it
   * adds to all traffic). Until then the rollout holds, "gathering evidence", with an estimate
   * of the canary requests still needed; an operator can promote through a gate or command at
   * any time. An excess counts only beyond both the absolute and the relative tolerance, as
   * with minEffect.
   */
  maxHarm: z
    .strictObject({
      /**
       * Error-rate excess: `absolute` in errors per request (0.005 = +0.5 percentage point)
       * and `relative` to the primary's rate (1 = twice its rate). Defaults 0.005 and 1.
       */
      errorRate: z
        .strictObject({
          absolute: z.number().gt(0).max(1).default(DEFAULT_MAX_ERROR_EXCESS.absolute),
          relative: z.number().min(0).max(100).default(DEFAULT_MAX_ERROR_EXCESS.relative),
        })
        .default(DEFAULT_MAX_ERROR_EXCESS),
      /**
       * Latency excess at each configured quantile: `relative` to the primary's value
       * (0.25 = +25%) and `absoluteMs`. Defaults +25% and +10 ms.
       */
      latency: z
        .strictObject({
          relative: z.number().min(0).max(100).default(DEFAULT_MAX_LATENCY_EXCESS.relative),
          absoluteMs: z.number().gt(0).default(DEFAULT_MAX_LATENCY_EXCESS.absoluteMs),
        })
        .default(DEFAULT_MAX_LATENCY_EXCESS),
    })
    .default({ errorRate: DEFAULT_MAX_ERROR_EXCESS, latency: DEFAULT_MAX_LATENCY_EXCESS }),
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
