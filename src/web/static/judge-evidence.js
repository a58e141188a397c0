// The sequential judge's evidence, readable: the counts per version, each test's current
// e-value and anytime p-value against its share of α, each harm bound (the canary's excess)
// against `analysis.judge.maxHarm` with the margin left, and what the bounds allow next
// ("gathering evidence: ~N more canary requests"). The evidence is the JSON of
// src/analysis/judge-decision.ts (`JudgeEvidence`, with the check's `decision`), as the judge
// check's result carries it (src/rollout/controller/judge-evaluator.ts). The app card shows
// the last judge check; the events timeline shows the one an event was decided on.
import { h } from './safe-dom.js';

/** Name of the judge's check among the metric results (src/config/app-analysis.ts). */
export const JUDGE_METRIC_NAME = 'judge';

function isRecord(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether `value` has the shape of a judge's evidence (counts, tests, harm bounds). */
export function isJudgeEvidence(value) {
  return (
    isRecord(value) &&
    typeof value.summary === 'string' &&
    isRecord(value.alpha) &&
    isRecord(value.errors) &&
    isRecord(value.harm) &&
    Array.isArray(value.latency)
  );
}

/**
 * The judge check in check results (`{metrics}`) or in an event's evidence: `{detail,
 * evidence}`, where `detail` is the check's line (the judge's summary, or why it holds).
 * Undefined when there is none.
 */
export function judgeCheckOf(results) {
  if (isJudgeEvidence(results)) return { detail: undefined, evidence: results };
  if (!isRecord(results) || !Array.isArray(results.metrics)) return undefined;
  const judge = results.metrics.find((m) => isRecord(m) && isJudgeEvidence(m.evidence));
  if (judge === undefined) return undefined;
  return { detail: typeof judge.detail === 'string' ? judge.detail : undefined, evidence: judge.evidence };
}

/** A finite number, or null (JSON turns ±Infinity and NaN into null). */
function finite(value) {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Three significant digits, scientific notation outside 0.0001 … 99,999: 0.19, 0.00063, 6580, 3.6e+5. */
export function formatNumber(value) {
  if (value === null || value === undefined) return '–';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-4) return value.toExponential(1);
  return String(Number(value.toPrecision(3)));
}

function percent(rate) {
  return rate === null ? '–' : `${(rate * 100).toFixed(2)}%`;
}

function pp(rate) {
  return `${(rate * 100).toFixed(2)} pp`;
}

function ms(value) {
  return `${value < 100 ? value.toFixed(1) : Math.round(value)} ms`;
}

/** `p50`, `p99.9`: a quantile's name. */
export function quantileName(q) {
  return `p${Math.round(q * 10000) / 100}`;
}

/** Requests, errors and error rate of each version. */
export function countRows(evidence) {
  return ['primary', 'canary'].map((version) => {
    const v = evidence.errors[version];
    return { version, requests: v.requests, errors: v.errors, rate: percent(finite(v.rate)) };
  });
}

/**
 * A harm bound against its tolerance: the larger of the absolute and the relative allowance
 * (the relative one on the primary's lower bound), as src/analysis/harm-bounds.ts compares them.
 */
function harmCells(excess, primaryLower, absolute, relative, unit) {
  const tolerance = Math.max(absolute, relative * (primaryLower ?? 0));
  if (excess === null)
    return { bound: 'not yet bounded', allowed: unit(tolerance), margin: '–', within: null };
  const within = excess <= tolerance;
  return {
    bound: `< ${unit(Math.max(excess, 0))}`,
    allowed: unit(tolerance),
    margin: `${within ? 'within' : 'over'} by ${unit(Math.abs(tolerance - Math.max(excess, 0)))}`,
    within,
  };
}

function testRow(name, logEValue, pValue, alpha, regression, harm) {
  // Leaning shows only where the e-value, as displayed, is above 1.
  const leans = logEValue !== null && Number(Math.exp(logEValue).toPrecision(3)) > 1;
  const verdict = regression ? 'regression' : leans ? 'leans to regression' : '';
  return {
    name,
    eValue: logEValue === null ? '–' : formatNumber(Math.exp(logEValue)),
    rejectsAt: `≥ ${formatNumber(1 / alpha)}`,
    pValue: formatNumber(pValue),
    alpha: formatNumber(alpha),
    verdict,
    bound: harm?.bound ?? '',
    allowed: harm?.allowed ?? '',
    margin: harm?.margin ?? '',
    within: harm?.within ?? null,
  };
}

/**
 * One row per test: the error test, each latency quantile's and the tail test, with the
 * current e-value, the e-value it rejects at (1/α share), the anytime p-value, the α share,
 * and the harm bound that goes with it (none for the tail test).
 */
export function testRows(evidence) {
  const { maxHarm } = evidence.harm;
  const errors = evidence.errors;
  const rows = [
    testRow(
      'errors',
      finite(errors.logEValue),
      finite(errors.pValue),
      errors.alpha,
      errors.regression,
      harmCells(
        finite(evidence.harm.errors.excessUpper),
        finite(evidence.harm.errors.primaryLower),
        maxHarm.errorRate.absolute,
        maxHarm.errorRate.relative,
        pp,
      ),
    ),
  ];
  for (const l of evidence.latency) {
    const bound = evidence.harm.latency.find((b) => b.quantile === l.quantile);
    const harm =
      bound === undefined
        ? undefined
        : harmCells(
            finite(bound.excessUpperMs),
            finite(bound.primaryLowerMs),
            maxHarm.latency.absoluteMs,
            maxHarm.latency.relative,
            ms,
          );
    rows.push(
      testRow(
        quantileName(l.quantile),
        finite(l.exceedance.logEValue),
        finite(l.exceedance.pValue),
        l.alpha,
        l.regression,
        harm,
      ),
    );
  }
  const tail = evidence.tail;
  if (isRecord(tail)) {
    rows.push(testRow('tail', finite(tail.logEValue), finite(tail.pValue), tail.alpha, tail.regression));
  }
  return rows;
}

function isRegression(evidence) {
  if (evidence.decision !== undefined) return evidence.decision === 'regression';
  return (
    evidence.errors.regression ||
    evidence.latency.some((l) => l.regression) ||
    (isRecord(evidence.tail) && evidence.tail.regression === true)
  );
}

/** What the harm bounds allow next, e.g. "gathering evidence: ~1200 more canary requests before promotion (…)". */
export function nextMoveLine(evidence) {
  const { harm } = evidence;
  if (isRegression(evidence)) return 'regression: the canary is rolled back';
  if (evidence.canaryRequests < evidence.minCanaryRequests) {
    return `gathering evidence: ${evidence.canaryRequests} of ${evidence.minCanaryRequests} canary requests before any step`;
  }
  if (harm.withinMaxHarm) return 'within maxHarm: steps and promotion allowed';
  const steps = `steps allowed up to ${Math.floor(finite(harm.allowedWeight) ?? 0)}%`;
  const more = finite(harm.moreCanaryRequestsToPromote);
  if (evidence.errors.canary.requests === 0 || evidence.errors.primary.requests === 0) {
    return `gathering evidence: no requests to compare yet (${steps})`;
  }
  if (more === null) return `${steps}; promotion not yet: the excess seen so far is beyond maxHarm`;
  return `gathering evidence: ~${more} more canary requests before promotion (${steps})`;
}

const TEST_COLUMNS = [
  ['eValue', 'e-value', 'number'],
  ['rejectsAt', 'rejects at', 'number'],
  ['pValue', 'p-value', 'number'],
  ['alpha', 'α share', 'number'],
  ['verdict', 'verdict', ''],
  ['bound', 'canary excess', 'number'],
  ['allowed', 'maxHarm', 'number'],
  ['margin', 'margin', ''],
];

function countsTable(evidence) {
  const columns = [
    ['requests', 'requests'],
    ['errors', 'errors'],
    ['rate', 'error rate'],
  ];
  return h(
    'table',
    { class: 'checks judge-counts' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'version'),
        columns.map(([, label]) => h('th', { scope: 'col' }, label)),
      ),
    ),
    h(
      'tbody',
      {},
      countRows(evidence).map((row) =>
        h(
          'tr',
          { 'data-version': row.version },
          h('th', { scope: 'row' }, row.version),
          columns.map(([key, label]) => h('td', { class: 'number', 'data-label': label }, String(row[key]))),
        ),
      ),
    ),
  );
}

function cellClass(key, row, base) {
  if (key === 'verdict' && row.verdict !== '')
    return `${base} verdict ${row.verdict === 'regression' ? 'failed' : 'pending'}`;
  if (key === 'margin' && row.within !== null) return `${base} verdict ${row.within ? 'passed' : 'failed'}`;
  return base;
}

function testsTable(evidence) {
  return h(
    'table',
    { class: 'checks judge-tests' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'test'),
        TEST_COLUMNS.map(([, label]) => h('th', { scope: 'col' }, label)),
      ),
    ),
    h(
      'tbody',
      {},
      testRows(evidence).map((row) =>
        h(
          'tr',
          { 'data-judge-test': row.name },
          h('th', { scope: 'row' }, row.name),
          TEST_COLUMNS.filter(
            ([key]) => row.bound !== '' || !['bound', 'allowed', 'margin'].includes(key),
          ).map(([key, label, className]) =>
            h(
              'td',
              { class: cellClass(key, row, className), 'data-label': label },
              row[key] === '' ? '–' : row[key],
            ),
          ),
        ),
      ),
    ),
  );
}

/**
 * The judge's evidence for `check` (from {@link judgeCheckOf}): its line, the counts, the
 * tests with their bounds, and the next move.
 */
export function judgePanel(check) {
  const { evidence } = check;
  const line =
    check.detail !== undefined && check.detail !== evidence.summary ? check.detail : evidence.summary;
  const decision = isRegression(evidence) ? 'regression' : (evidence.decision ?? 'pass');
  return h(
    'div',
    { class: `judge judge-${decision}`, 'data-judge-decision': decision },
    h('p', { class: 'judge-line' }, line),
    countsTable(evidence),
    testsTable(evidence),
    h('p', { class: 'judge-next' }, nextMoveLine(evidence)),
  );
}
