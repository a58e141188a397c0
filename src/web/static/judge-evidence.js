// The sequential judge's evidence, readable: the counts per version, each test's current
// e-value and anytime p-value against its share of α, each harm bound (the canary's excess)
// against `analysis.judge.maxHarm` with the margin left, and what the bounds allow next
// ("gathering evidence: ~N more canary requests"). The evidence is the JSON of
// src/analysis/judge-decision.ts (`JudgeEvidence`, with the check's `decision`), as the judge
// check's result carries it (src/rollout/controller/judge-evaluator.ts). The app card shows
// the last judge check; the events timeline shows the one an event was decided on. The figures
// are judge-figures.js's, shared with the CLI; this module lays them out in the DOM.
import { countRows, isRegression, nextMoveLine, testFigures } from './judge-figures.js';
import { h } from './safe-dom.js';

export { countRows, formatNumber, isJudgeEvidence, judgeCheckOf, nextMoveLine } from './judge-figures.js';

/** Name of the judge's check among the metric results (src/config/app-analysis.ts). */
export const JUDGE_METRIC_NAME = 'judge';

/**
 * One row per test as the tests table shows it: the test's figures (judge-figures.js), its
 * harm bound spread over `bound`, `allowed`, `margin` and `within` ('' and null for none).
 */
export function testRows(evidence) {
  return testFigures(evidence).map((test) => ({
    name: test.name,
    eValue: test.eValue,
    rejectsAt: test.rejectsAt,
    pValue: test.pValue,
    alpha: test.alpha,
    verdict: test.verdict === 'leans' ? 'leans to regression' : test.verdict,
    bound: test.harm?.bound ?? '',
    allowed: test.harm?.allowed ?? '',
    margin: test.harm?.margin ?? '',
    within: test.harm?.within ?? null,
  }));
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
