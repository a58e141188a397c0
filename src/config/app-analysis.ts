/**
 * The `analysis` part of an app's canary block, with Flagger's field names, defaults and
 * limits (https://docs.flagger.app/usage/how-it-works#canary-analysis), plus Aviary's
 * no-data policy on metrics (`minRequests`, `failOnNoData`). Every default and limit of the
 * analysis is set here once, or in the schema of its part (app-webhook.ts, app-judge.ts).
 */
import { z } from 'zod';
import { DEFAULT_JUDGE_CONFIG, judgeConfigSchema } from './app-judge.js';
import { BASELINE_KINDS, FRESH_BASELINE_MAX_WEIGHT, freshBaselineIssues } from './analysis-baseline.js';
import { judgeUnsupported, judgeUnsupportedReason } from './judge-support.js';
import { httpMatchSchema } from './app-match.js';
import { webhookSchema } from './app-webhook.js';
import { stringish } from './field-schemas.js';
import { durationMs } from './proxy-schema.js';

/** Re-exported so app-schema.ts can list every analysis type in one place. */
export type { WebhookSpec, WebhookType } from './app-webhook.js';
export { BASELINE_KINDS, FRESH_BASELINE_MAX_WEIGHT, type BaselineKind } from './analysis-baseline.js';

/** Metrics that need no `templateRef` (Flagger's built-ins). */
export const BUILTIN_METRICS = ['request-success-rate', 'request-duration'] as const;

/**
 * Name of the check that carries the sequential judge's decision. With `analysis.judge` set,
 * a metric of this name is added to `analysis.metrics`, so the judge is asked for, reported
 * and counted like any metric; the name is reserved for it.
 */
export const JUDGE_METRIC_NAME = 'judge';

/** What a passed progress deadline does during the analysis (`analysis.deadlineAction`). */
export const DEADLINE_ACTIONS = ['rollback', 'hold'] as const;

/** Alert severities; a provider with severity `warn` receives warn and error (Flagger's filter). */
export const ALERT_SEVERITIES = ['info', 'warn', 'error'] as const;

const weight = z.number().int().min(0).max(100);
const percent = z.number().min(0).max(100);
const COOKIE_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const cookieName = z.string().regex(COOKIE_NAME, { message: 'expected a cookie name (RFC 6265 token)' });

const thresholdRange = z
  .strictObject({ min: z.number().optional(), max: z.number().optional() })
  .superRefine((range, ctx) => {
    if (range.min === undefined && range.max === undefined) {
      ctx.addIssue({ code: 'custom', message: 'expected min, max or both' });
    } else if (range.min !== undefined && range.max !== undefined && range.min > range.max) {
      ctx.addIssue({ code: 'custom', path: ['max'], message: `expected max >= min (${range.min})` });
    }
  });

/**
 * A metric check. `interval` (default 1m) is the window the value is computed over.
 * No-data policy: a value based on fewer than `minRequests` requests (default 10), or no
 * value at all, holds the analysis step without counting a failed check; the progress
 * deadline is the backstop. `failOnNoData: true` restores Flagger's behaviour (a failed check).
 */
export const metricSchema = z
  .strictObject({
    name: z.string().min(1),
    interval: durationMs.default(60_000),
    thresholdRange: thresholdRange.optional(),
    templateRef: z.strictObject({ name: z.string().min(1), namespace: z.string().optional() }).optional(),
    templateVariables: z.record(z.string(), stringish).optional(),
    minRequests: z.number().int().min(0).default(10),
    failOnNoData: z.boolean().default(false),
  })
  .superRefine((metric, ctx) => {
    const builtin = (BUILTIN_METRICS as readonly string[]).includes(metric.name);
    if (metric.templateRef === undefined && !builtin) {
      ctx.addIssue({
        code: 'custom',
        path: ['name'],
        message: `unknown built-in metric "${metric.name}"; expected one of ${BUILTIN_METRICS.join(', ')}, or set templateRef`,
      });
    }
    if (metric.templateVariables !== undefined && metric.templateRef === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['templateVariables'],
        message: 'templateVariables needs templateRef',
      });
    }
  });

/** An alert route: events of at least `severity` (default info) go to the provider named. */
export const alertSchema = z.strictObject({
  name: z.string().min(1),
  severity: z.enum(ALERT_SEVERITIES).default('info'),
  providerRef: z.strictObject({ name: z.string().min(1), namespace: z.string().optional() }),
});

/** Cookie-based stickiness during a weighted canary; `maxAge` default 86400 s (one day), as Flagger. */
export const sessionAffinitySchema = z.strictObject({
  cookieName,
  primaryCookieName: cookieName.optional(),
  maxAge: z.number().int().min(1).default(86_400),
});

const stepWeights = z.array(z.number().int().min(1).max(100)).superRefine((weights, ctx) => {
  weights.forEach((w, i) => {
    const previous = weights[i - 1];
    if (previous !== undefined && w <= previous) {
      ctx.addIssue({
        code: 'custom',
        path: [i],
        message: `expected stepWeights in ascending order, got ${w} after ${previous}`,
      });
    }
  });
});

function uniqueNames(list: readonly { name: string }[], field: string, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  list.forEach((item, i) => {
    if (seen.has(item.name)) {
      ctx.addIssue({ code: 'custom', path: [field, i, 'name'], message: `duplicate name "${item.name}"` });
    }
    seen.add(item.name);
  });
}

/**
 * The analysis: schedule, strategy and checks. Defaults: interval 60s, threshold 1,
 * maxWeight 100 or the last of `stepWeights`, ready thresholds 100 %, mirrorWeight 100 %.
 * Zero for stepWeight, stepWeightPromotion or iterations means "not set", as in Flagger.
 * The lower bound of `interval` (10s unless `minAnalysisInterval` says otherwise) is checked
 * where the bound is known: the top-level config and the Flagger loader.
 */
export const analysisSchema = z
  .strictObject({
    interval: durationMs.default(60_000),
    threshold: z.number().int().min(1).default(1),
    maxWeight: z.number().int().min(1).max(100).optional(),
    stepWeight: weight.optional(),
    stepWeights: stepWeights.default([]),
    stepWeightPromotion: weight.optional(),
    iterations: z.number().int().min(0).optional(),
    match: z.array(httpMatchSchema).default([]),
    mirror: z.boolean().default(false),
    mirrorWeight: weight.default(100),
    primaryReadyThreshold: percent.default(100),
    canaryReadyThreshold: percent.default(100),
    sessionAffinity: sessionAffinitySchema.optional(),
    /**
     * What a passed progress deadline (`progressDeadlineSeconds` without progress) does during
     * the analysis: `rollback` (default, as Flagger), or `hold`: keep the canary where it is,
     * say so in a warning event and alert, and start the deadline again, so an operator can
     * promote or abort (the judge's "gathering evidence" at low traffic can outlast it).
     */
    deadlineAction: z.enum(DEADLINE_ACTIONS).default('rollback'),
    metrics: z.array(metricSchema).default([]),
    webhooks: z.array(webhookSchema).default([]),
    alerts: z.array(alertSchema).default([]),
    /**
     * The sequential judge (docs/adr/0002-sequential-judge.md), beside any threshold metrics:
     * it compares canary with primary from the router's counters, holds while data is
     * insufficient and rolls back at once on a regression. On by default for a weighted canary
     * (see {@link judgeByDefault}); `judge: {}` takes every default; `judge: false` turns it off.
     */
    judge: z.union([judgeConfigSchema, z.literal(false)]).optional(),
    /**
     * What the judge compares the canary with: `primary` (default) or `fresh`, a new copy of
     * the primary's revision with as many replicas as the canary and the same weight, started
     * with the canary and stopped when the rollout ends, so that a canary's cold start is not
     * read as a regression. Threshold metrics are unchanged. `fresh` needs the judge and a
     * weighted canary, and keeps `maxWeight` at most 50 (default 50): the primary gets
     * 100 − 2 × the canary's weight.
     */
    baseline: z.enum(BASELINE_KINDS).default('primary'),
  })
  .superRefine((a, ctx) => {
    const last = a.stepWeights.at(-1);
    if ((a.stepWeight ?? 0) > 0 && last !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['stepWeights'],
        message: 'set stepWeight or stepWeights, not both',
      });
    }
    if (a.maxWeight !== undefined && last !== undefined && a.maxWeight !== last) {
      ctx.addIssue({
        code: 'custom',
        path: ['maxWeight'],
        message: `expected maxWeight to equal the last stepWeights entry (${last}) or to be left out`,
      });
    }
    const iterations = a.iterations ?? 0;
    if (a.match.length > 0 && iterations === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['match'],
        message: 'A/B testing (match) needs iterations; for a weighted canary remove match',
      });
    }
    if (a.mirror && a.match.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['mirror'],
        message: 'mirroring applies to blue/green and canary releases, not to A/B testing (match)',
      });
    }
    // An explicit judge where it cannot be valid is refused (here, so that a Flagger Canary is
    // checked too); the judge's default never applies there.
    const unsupported = a.judge !== undefined && a.judge !== false ? judgeUnsupported(a) : undefined;
    if (unsupported !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['judge'],
        message: `the judge cannot be used with analysis.${unsupported.field}: ${unsupported.reason}`,
      });
    }
    const reserved = a.metrics.findIndex((m) => m.name === JUDGE_METRIC_NAME);
    if (a.judge !== undefined && a.judge !== false && reserved >= 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['metrics', reserved, 'name'],
        message: `"${JUDGE_METRIC_NAME}" is reserved for the check of analysis.judge; rename this metric`,
      });
    }
    if (a.baseline === 'fresh') freshBaselineIssues(a, ctx);
    uniqueNames(a.metrics, 'metrics', ctx);
    uniqueNames(a.webhooks, 'webhooks', ctx);
    uniqueNames(a.alerts, 'alerts', ctx);
  })
  .transform(({ judge: asked, ...a }) => {
    const judge =
      asked === false ? undefined : (asked ?? (judgeByDefault(a) ? DEFAULT_JUDGE_CONFIG : undefined));
    return {
      ...a,
      ...(judge !== undefined ? { judge } : {}),
      metrics: judge === undefined ? a.metrics : [...a.metrics, judgeMetric(a.interval, judge)],
      maxWeight:
        a.maxWeight ?? a.stepWeights.at(-1) ?? (a.baseline === 'fresh' ? FRESH_BASELINE_MAX_WEIGHT : 100),
      stepWeight: a.stepWeight === 0 ? undefined : a.stepWeight,
      stepWeightPromotion: a.stepWeightPromotion === 0 ? undefined : a.stepWeightPromotion,
      iterations: a.iterations === 0 ? undefined : a.iterations,
    };
  });

/**
 * Whether an analysis that does not mention `judge` gets the judge: a weighted canary does.
 * Not blue/green (`iterations`): the canary takes no weighted share of live traffic there,
 * so the judge would only hold; not where it cannot judge validly (A/B rules, session
 * affinity: judge-support.ts); and not when a threshold metric already uses its name.
 */
function judgeByDefault(a: {
  iterations?: number | undefined;
  match: readonly unknown[];
  sessionAffinity?: unknown;
  metrics: readonly { name: string }[];
}): boolean {
  return (
    (a.iterations ?? 0) === 0 &&
    judgeUnsupportedReason(a) === undefined &&
    !a.metrics.some((m) => m.name === JUDGE_METRIC_NAME)
  );
}

/**
 * The metric that asks for the judge's decision each check tick. Its `minRequests` is the
 * judge's, so "insufficient data" reads as a hold with the canary's request count; never
 * `failOnNoData`, because too little data must not count as a failure.
 */
function judgeMetric(interval: number, judge: { minCanaryRequests: number }): z.output<typeof metricSchema> {
  return { name: JUDGE_METRIC_NAME, interval, minRequests: judge.minCanaryRequests, failOnNoData: false };
}

/** A validated analysis, defaults applied, durations in ms, `maxWeight` always set. */
export type AnalysisSpec = z.output<typeof analysisSchema>;
/** A validated metric check. */
export type MetricSpec = z.output<typeof metricSchema>;
/** A validated alert route. */
export type AlertSpec = z.output<typeof alertSchema>;
/** One of {@link ALERT_SEVERITIES}. */
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];
