/**
 * The sequential judge's evidence as `aviary get events` prints it under an event: the
 * judge's line, the counts per version, each test's current e-value and anytime p-value
 * against its share of α, each harm bound (the canary's excess) against `maxHarm` with the
 * margin left, and what the bounds allow next ("gathering evidence: ~N more canary
 * requests"). Pure functions of the event's JSON evidence (analysis/judge-decision.ts), so
 * they are tested without a server. The figures themselves come from the dashboard's
 * web/static/judge-figures.js, so the terminal and the browser say the same; this module
 * lays them out for the terminal.
 */
import type { JudgeEvidence } from '../analysis/judge-decision.js';
// The figures are shared with the dashboard. The path names src/web/static/ both from
// src/cli/ (tsx, vitest) and from dist/cli/ (after `npm run build`), as STATIC_DIR does in
// web/static-assets.ts.
import {
  countRows,
  errorHarmRow,
  finite,
  formatEValue,
  formatNumber,
  formatPercent,
  isRecord,
  nextMoveLine,
  quantileName,
  testFigures,
  type JudgeCheck,
  type TestFigures,
} from '../../src/web/static/judge-figures.js';
import { renderTable, type Cell } from './render-table.js';
import { PLAIN, renderLine, type TerminalStyle } from './render-terminal.js';

export {
  errorHarmRow,
  formatEValue,
  formatNumber,
  isJudgeEvidence,
  judgeCheckOf,
  latencyHarmRows,
  nextMoveLine,
  quantileName,
} from '../../src/web/static/judge-figures.js';
export type { HarmRow, JudgeCheck } from '../../src/web/static/judge-figures.js';

/** One row of the tests table: a test's figures, its verdict and margin coloured. */
function testRow(test: TestFigures): Cell[] {
  const { harm } = test;
  return [
    test.name,
    test.eValue,
    test.rejectsAt,
    test.pValue,
    test.alpha,
    {
      text: test.verdict === '' ? '–' : test.verdict,
      colour: test.verdict === 'regression' ? 'red' : test.verdict === 'leans' ? 'yellow' : undefined,
    },
    harm?.bound ?? '',
    harm?.allowed ?? '',
    harm === undefined ? '' : { text: harm.margin, colour: harm.within === false ? 'red' : undefined },
  ];
}

/** Header of the tests table. */
export const JUDGE_TEST_HEADERS = [
  'test',
  'e-value',
  'rejects at',
  'p-value',
  'α share',
  'verdict',
  'canary excess',
  'maxHarm',
  'margin',
] as const;

/** `primary 1900 requests, 2 errors (0.11%) · canary 100 requests, 0 errors (0.00%)`. */
export function countsLine(evidence: JudgeEvidence): string {
  return countRows(evidence)
    .map((v) => `${v.version} ${v.requests} requests, ${v.errors} errors (${v.rate})`)
    .join(' · ');
}

/**
 * The lines printed under an event with judge evidence, each starting with `indent`: the
 * judge's line (the check's detail when it holds), counts, the tests table and the next move.
 */
export function judgeLines(check: JudgeCheck, style: TerminalStyle = PLAIN, indent = '    '): string[] {
  const { evidence } = check;
  const said =
    check.detail !== undefined && check.detail !== evidence.summary ? check.detail : evidence.summary;
  const labelled = (label: string, text: string) =>
    renderLine(style, [[indent], [label.padEnd(8), 'dim'], [text]]);
  // The table is cut to what is left of the line after the indent.
  const inner = style.columns === undefined ? style : { ...style, columns: style.columns - indent.length };
  const table = renderTable(inner, JUDGE_TEST_HEADERS, testFigures(evidence).map(testRow)).map(
    (line) => indent + line,
  );
  return [
    labelled('judge', said),
    labelled('counts', countsLine(evidence)),
    ...table,
    labelled('next', nextMoveLine(evidence)),
  ];
}

/**
 * The judge's evidence in one line for `aviary watch`, under the judge's check: counts, each
 * test's e-value over the e-value it rejects at, and the error-rate bound against maxHarm, e.g.
 * `canary 10 of 18 failed (55.56%) · primary 0 of 209 (0.00%) · e-values errors 2.0e+9/133,
 * p50 1/1600, tail 1/800 · error-rate excess < 91.26 pp (maxHarm 0.50 pp)`.
 */
export function judgeOneLiner(evidence: JudgeEvidence): string {
  const { primary, canary } = evidence.errors;
  const e = (name: string, logEValue: unknown, alpha: number) =>
    `${name} ${formatEValue(finite(logEValue))}/${formatNumber(1 / alpha)}`;
  const tests = [
    e('errors', evidence.errors.logEValue, evidence.errors.alpha),
    ...evidence.latency.map((l) => e(quantileName(l.quantile), l.exceedance.logEValue, l.alpha)),
    ...(isRecord(evidence.tail) ? [e('tail', evidence.tail.logEValue, evidence.tail.alpha)] : []),
  ];
  const harm = errorHarmRow(evidence);
  return [
    `canary ${canary.errors} of ${canary.requests} failed (${formatPercent(finite(canary.rate))})`,
    `primary ${primary.errors} of ${primary.requests} (${formatPercent(finite(primary.rate))})`,
    `e-values ${tests.join(', ')}`,
    `error-rate excess ${harm.bound} (maxHarm ${harm.allowed})`,
  ].join(' · ');
}
