// The evidence behind the controller's decisions: each metric check's threshold next to the
// value measured at the last analysis, its sample size and its verdict, plus the webhook
// (and manual gate) results. The same rendering explains the evidence attached to events.
import { isJudgeEvidence, JUDGE_METRIC_NAME, judgeCheckOf, judgePanel } from './judge-evidence.js';
import { h } from './safe-dom.js';

/** A metric value with its unit: success rate in %, durations in ms. */
export function formatMetric(name, value) {
  if (value === null || value === undefined) return '–';
  if (name === 'request-success-rate') return `${value.toFixed(2)} %`;
  if (name === 'request-duration') return `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
  // The judge's value is the smallest p-value of its tests (judge-evidence.js shows them all).
  if (name === JUDGE_METRIC_NAME) return `p = ${value.toPrecision(2)}`;
  return Number.isInteger(value) ? String(value) : value.toPrecision(4);
}

function formatRange(name, range) {
  if (!range && name === JUDGE_METRIC_NAME) return 'p ≤ each test’s α share';
  if (!range) return 'none';
  const parts = [];
  if (range.min !== undefined) parts.push(`≥ ${formatMetric(name, range.min)}`);
  if (range.max !== undefined) parts.push(`≤ ${formatMetric(name, range.max)}`);
  return parts.join(' and ');
}

function seconds(ms) {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * The verdict shown for a metric check, with the controller's no-data policy
 * (src/rollout/step/check-verdicts.ts): a check without a value, or measured on fewer
 * requests than its `minRequests`, lacks data. It holds the step (or fails it with
 * `failOnNoData`) whatever its value, so it never reads as passed. `spec` is the metric's
 * analysis summary (undefined when unknown: then only a missing value lacks data).
 */
export function checkVerdict(result, spec) {
  if (!result) return { text: 'not run yet', className: 'pending' };
  if (result.error) return { text: 'error', className: 'failed' };
  const tooFew =
    spec !== undefined && result.sampleSize !== undefined && result.sampleSize < spec.minRequests;
  if (result.value === null || tooFew) {
    const what = result.value === null && result.sampleSize === undefined ? 'no data' : 'insufficient data';
    return spec?.failOnNoData
      ? { text: `${what}: failed`, className: 'failed' }
      : { text: `${what}: hold`, className: 'pending' };
  }
  return result.passed ? { text: 'passed', className: 'passed' } : { text: 'failed', className: 'failed' };
}

function metricRow(name, spec, result) {
  const { text, className } = checkVerdict(result, spec);
  const sample =
    result?.sampleSize === undefined
      ? '–'
      : `${result.sampleSize}${spec ? ` (min ${spec.minRequests})` : ''}`;
  // `data-label` names each cell where the table is laid out as stacked rows (event evidence).
  return h(
    'tr',
    { 'data-metric': name },
    h('th', { scope: 'row' }, name),
    h('td', { 'data-label': 'threshold' }, spec ? formatRange(name, spec.thresholdRange) : '–'),
    h('td', { class: 'number', 'data-label': 'measured' }, formatMetric(name, result?.value)),
    h('td', { class: 'number', 'data-label': 'requests' }, sample),
    h('td', { 'data-label': 'window' }, spec ? seconds(spec.intervalMs) : '–'),
    h('td', { 'data-label': 'verdict' }, h('span', { class: `verdict ${className}` }, text)),
    h('td', { class: 'detail' }, result?.error ?? result?.detail ?? ''),
  );
}

/**
 * A table of metric checks: every configured metric (from the analysis summary), with the
 * result of the last analysis if it ran; results for metrics no longer configured are kept.
 */
export function metricsTable(metricResults = [], metricSpecs = []) {
  const names = [...new Set([...metricSpecs.map((m) => m.name), ...metricResults.map((m) => m.name)])];
  if (names.length === 0) return h('p', { class: 'empty' }, 'No metric checks configured.');
  return h(
    'table',
    { class: 'checks' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['metric', 'threshold', 'measured', 'requests', 'window', 'verdict', 'detail'].map((c) =>
          h('th', { scope: 'col' }, c),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      names.map((name) =>
        metricRow(
          name,
          metricSpecs.find((m) => m.name === name),
          metricResults.find((m) => m.name === name),
        ),
      ),
    ),
  );
}

/** Webhook and gate results of the last analysis, or nothing when none ran. */
export function webhookList(webhooks = []) {
  if (webhooks.length === 0) return null;
  return h(
    'ul',
    { class: 'hooks' },
    webhooks.map((hook) =>
      h(
        'li',
        {},
        h('span', { class: `verdict ${hook.ok ? 'passed' : 'failed'}` }, hook.ok ? 'ok' : 'failed'),
        ` ${hook.name} (${hook.type})`,
        hook.message ? h('span', { class: 'detail' }, ` ${hook.message}`) : null,
      ),
    ),
  );
}

/**
 * An event's `evidence`: check results (`{webhooks, metrics}`, with the judge's evidence
 * under them when the judge checked), a judge's evidence itself, or anything else shown as
 * JSON text. `metricSpecs` are the app's metric
 * summaries (`GET /api/v1/rollouts/{app}/analysis`), which give each check its threshold,
 * window and minimum of requests: a check result carries only what was measured.
 */
export function evidenceView(evidence, metricSpecs = []) {
  if (evidence === null || typeof evidence !== 'object') return h('pre', {}, JSON.stringify(evidence));
  if (isJudgeEvidence(evidence)) return h('div', { class: 'evidence' }, judgePanel(judgeCheckOf(evidence)));
  const parts = [];
  if (typeof evidence.summary === 'string') parts.push(h('p', { class: 'summary' }, evidence.summary));
  if (Array.isArray(evidence.metrics)) {
    // Only the checks that ran: a configured metric absent from old evidence is not "not run yet".
    const ran = new Set(evidence.metrics.map((m) => m.name));
    parts.push(
      metricsTable(
        evidence.metrics,
        metricSpecs.filter((m) => ran.has(m.name)),
      ),
    );
  }
  const judge = judgeCheckOf(evidence);
  if (judge !== undefined) parts.push(judgePanel(judge));
  if (Array.isArray(evidence.webhooks)) parts.push(webhookList(evidence.webhooks));
  const known = new Set(['summary', 'metrics', 'webhooks']);
  const rest = Object.fromEntries(Object.entries(evidence).filter(([key]) => !known.has(key)));
  if (Object.keys(rest).length > 0) parts.push(h('pre', {}, JSON.stringify(rest, null, 2)));
  return h('div', { class: 'evidence' }, parts);
}
