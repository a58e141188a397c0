/**
 * Runs, at the edge, the checks `requiredChecks` asked for: webhook stages through the
 * webhook client (manual gates included) and metric checks through the metric observer,
 * and turns them into the `CheckResults` that `step` reads. Every value carries its
 * evidence (sample size, threshold, interval) for events, the API and the dashboard.
 */
import type { AppSpec, MetricSpec } from '../../config/app-schema.js';
import type { MetricObserver } from '../../metrics/metric-observer.js';
import type { CheckResults, HookResult, MetricResult } from '../step/observations.js';
import type { RequiredChecks } from '../step/required-checks.js';
import type { WebhookClient } from '../webhooks/webhook-client.js';
import { runWebhookStage } from '../webhooks/webhook-verdict.js';

/**
 * Why a metric is evaluated: at a check tick, whose result may hold or advance the rollout,
 * or at a look between ticks (judge-looks.ts), whose result can only roll back.
 */
export type EvaluationPurpose = 'check' | 'look';

/** Evaluates metrics that are not built in (templates, judges); undefined means "not handled". */
export type ExtraMetricEvaluator = (
  app: AppSpec,
  metric: MetricSpec,
  nowMs: number,
  signal: AbortSignal,
  purpose?: EvaluationPurpose,
) => Promise<MetricResult | undefined>;

/** What the runner needs from the edge. */
export interface CheckRunnerDeps {
  readonly webhooks: Pick<WebhookClient, 'call'>;
  readonly observer: MetricObserver;
  readonly extraMetrics?: ExtraMetricEvaluator;
}

/** `value` against `thresholdRange`, with the comparison in words. */
export function thresholdVerdict(metric: MetricSpec, value: number): { passed: boolean; detail: string } {
  const range = metric.thresholdRange;
  const shown = Number.isInteger(value) ? String(value) : value.toFixed(2);
  if (range?.min !== undefined && value < range.min)
    return { passed: false, detail: `${shown} < min ${range.min}` };
  if (range?.max !== undefined && value > range.max)
    return { passed: false, detail: `${shown} > max ${range.max}` };
  const bounds = [
    range?.min !== undefined ? `>= ${range.min}` : '',
    range?.max !== undefined ? `<= ${range.max}` : '',
  ]
    .filter((b) => b !== '')
    .join(' and ');
  return { passed: true, detail: bounds === '' ? shown : `${shown} ${bounds}` };
}

/** A metric whose source could not be read: that check's error, never the tick's. */
function failedRead(metric: MetricSpec, err: unknown): MetricResult {
  return { name: metric.name, value: null, passed: false, error: (err as Error).message };
}

async function runMetric(
  deps: CheckRunnerDeps,
  app: AppSpec,
  metric: MetricSpec,
  nowMs: number,
  signal: AbortSignal,
  purpose: EvaluationPurpose,
): Promise<MetricResult> {
  let extra: MetricResult | undefined;
  try {
    extra = await deps.extraMetrics?.(app, metric, nowMs, signal, purpose);
  } catch (err) {
    // A template's or the judge's source that cannot be read is that check's error, as a
    // built-in metric's is: it must not fail the whole tick (commands, readiness, deadline).
    if (signal.aborted) throw err;
    return failedRead(metric, err);
  }
  if (extra) return extra;
  if (metric.templateRef !== undefined) {
    return {
      name: metric.name,
      value: null,
      passed: false,
      error: `metric template "${metric.templateRef.name}" is not defined; add it to metricTemplates`,
    };
  }
  if (metric.name !== 'request-success-rate' && metric.name !== 'request-duration') {
    return {
      name: metric.name,
      value: null,
      passed: false,
      error: `unknown built-in metric "${metric.name}"`,
    };
  }
  try {
    const obs = await deps.observer.observe(
      metric.name,
      { app: app.name, version: 'canary', intervalMs: metric.interval, nowMs },
      signal,
    );
    if (obs.value === undefined) {
      return {
        name: metric.name,
        value: null,
        sampleSize: obs.sampleSize,
        passed: false,
        detail: 'no values found',
      };
    }
    const verdict = thresholdVerdict(metric, obs.value);
    return { name: metric.name, value: obs.value, sampleSize: obs.sampleSize, ...verdict };
  } catch (err) {
    if (signal.aborted) throw err;
    return failedRead(metric, err);
  }
}

/**
 * Runs one look between check ticks (the judge's metric, as `requiredLook` names it) through
 * the same evaluators as a check, so a look and a check tick read the judge alike. A look
 * that cannot read its counts (an admin API out of reach) answers with the error, as every
 * metric does (`runMetric`), instead of failing the tick: it comes every second, and a failed
 * tick would hold commands, readiness and the deadline too. The look after it reads the
 * seconds this one missed.
 */
export function runLook(
  deps: CheckRunnerDeps,
  app: AppSpec,
  metric: MetricSpec,
  nowMs: number,
  signal: AbortSignal,
): Promise<MetricResult> {
  return runMetric(deps, app, metric, nowMs, signal, 'look');
}

/** Runs every required check in order (hooks stop at a stage's first failure, as in Flagger). */
export async function runChecks(
  deps: CheckRunnerDeps,
  app: AppSpec,
  required: RequiredChecks,
  context: { namespace: string; checksum: string },
  nowMs: number,
  signal: AbortSignal,
): Promise<CheckResults> {
  const webhooks: HookResult[] = [];
  for (const stage of required.hookStages) {
    const outcome = await runWebhookStage(
      deps.webhooks,
      stage.hooks,
      stage.type,
      { name: app.name, namespace: context.namespace, phase: stage.phase, checksum: context.checksum },
      signal,
    );
    for (const call of outcome.calls) {
      webhooks.push({
        type: stage.type,
        name: call.hook.name,
        ok: call.result.ok,
        message: call.result.message,
      });
    }
  }
  const metrics = await Promise.all(
    required.metrics.map((m) => runMetric(deps, app, m, nowMs, signal, 'check')),
  );
  return { webhooks, metrics };
}
