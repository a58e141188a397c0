/**
 * The sequential judge's evidence as `aviary get events` prints it under an event: the
 * judge's line, the counts per version, each test's current e-value and anytime p-value
 * against its share of α, each harm bound (the canary's excess) against `maxHarm` with the
 * margin left, and what the bounds allow next ("gathering evidence: ~N more canary
 * requests"). Pure functions of the event's JSON evidence (analysis/judge-decision.ts), so
 * they are tested without a server.
 */
import type { JudgeEvidence } from '../analysis/judge-decision.js';
import { JUDGE_METRIC_NAME } from '../config/app-analysis.js';
import { renderTable, type Cell } from './render-table.js';
import { PLAIN, renderLine, type TerminalStyle } from './render-terminal.js';

/** A judge check as an event carries it: the check's verdict line and the judge's evidence. */
export interface JudgeCheck {
  /** The check's detail: the judge's summary, or why it holds ("gathering evidence …"). */
  readonly detail: string | undefined;
  readonly evidence: JudgeEvidence & { readonly decision?: string };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether `value` has the shape of a judge's evidence (counts, tests, harm bounds). */
export function isJudgeEvidence(value: unknown): value is JudgeEvidence {
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
 * The judge check in an event's evidence: the check results of a tick (`{metrics}`) holding
 * the `judge` metric, or a judge's evidence itself. Undefined when the event has none.
 */
export function judgeCheckOf(evidence: unknown): JudgeCheck | undefined {
  if (isJudgeEvidence(evidence)) return { detail: undefined, evidence };
  if (!isRecord(evidence) || !Array.isArray(evidence.metrics)) return undefined;
  const metrics: unknown[] = evidence.metrics;
  const judge = metrics.find(
    (m): m is Record<string, unknown> =>
      isRecord(m) &&
      (m.name === JUDGE_METRIC_NAME || isJudgeEvidence(m.evidence)) &&
      isJudgeEvidence(m.evidence),
  );
  if (judge === undefined) return undefined;
  return {
    detail: typeof judge.detail === 'string' ? judge.detail : undefined,
    evidence: judge.evidence as JudgeEvidence,
  };
}

/** A finite number, or null (JSON turns ±Infinity and NaN into null). */
function finite(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Three significant digits, scientific notation outside 0.0001 … 99,999: 0.19, 0.00063, 6580, 3.6e+5. */
export function formatNumber(value: number | null): string {
  if (value === null) return '–';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-4) return value.toExponential(1);
  return String(Number(value.toPrecision(3)));
}

/** An e-value from its logarithm; "–" when unknown. */
export function formatEValue(logEValue: number | null): string {
  return logEValue === null ? '–' : formatNumber(Math.exp(logEValue));
}

function percent(rate: number | null): string {
  return rate === null ? '–' : `${(rate * 100).toFixed(2)}%`;
}

function pp(rate: number): string {
  return `${(rate * 100).toFixed(2)} pp`;
}

function ms(value: number): string {
  return `${value < 100 ? value.toFixed(1) : Math.round(value)} ms`;
}

/** `p50`, `p99.9`: a quantile's name. */
export function quantileName(q: number): string {
  return `p${Math.round(q * 10000) / 100}`;
}

/** How one harm bound reads: the canary's excess, what maxHarm allows, the margin left. */
export interface HarmRow {
  readonly bound: string;
  readonly allowed: string;
  /** "within by …", "over by …", or "–" while the bound is not known. */
  readonly margin: string;
  readonly within: boolean | null;
}

/**
 * A bound against its tolerance. The tolerance is the larger of the absolute and the relative
 * allowance (the relative one on the primary's lower bound), as analysis/harm-bounds.ts
 * compares them.
 */
function harmRow(
  excess: number | null,
  primaryLower: number | null,
  absolute: number,
  relative: number,
  unit: (value: number) => string,
): HarmRow {
  const tolerance = Math.max(absolute, relative * (primaryLower ?? 0));
  if (excess === null)
    return { bound: 'not yet bounded', allowed: unit(tolerance), margin: '–', within: null };
  const within = excess <= tolerance;
  const margin = Math.abs(tolerance - Math.max(excess, 0));
  return {
    bound: `< ${unit(Math.max(excess, 0))}`,
    allowed: unit(tolerance),
    margin: `${within ? 'within' : 'over'} by ${unit(margin)}`,
    within,
  };
}

/** The error-rate bound against maxHarm. */
export function errorHarmRow(evidence: JudgeEvidence): HarmRow {
  const { errors } = evidence.harm;
  const { errorRate } = evidence.harm.maxHarm;
  return harmRow(
    finite(errors.excessUpper),
    finite(errors.primaryLower),
    errorRate.absolute,
    errorRate.relative,
    pp,
  );
}

/** The latency bound at each quantile against maxHarm. */
export function latencyHarmRows(evidence: JudgeEvidence): (HarmRow & { readonly quantile: number })[] {
  const { latency } = evidence.harm.maxHarm;
  return evidence.harm.latency.map((l) => ({
    quantile: l.quantile,
    ...harmRow(finite(l.excessUpperMs), finite(l.primaryLowerMs), latency.absoluteMs, latency.relative, ms),
  }));
}

/** What the harm bounds allow next, e.g. "gathering evidence: ~1200 more canary requests before promotion". */
export function nextMoveLine(evidence: JudgeCheck['evidence']): string {
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

/** The judge's decision, or (in evidence without one) whether any test rejected. */
function isRegression(evidence: JudgeCheck['evidence']): boolean {
  if (evidence.decision !== undefined) return evidence.decision === 'regression';
  return (
    evidence.errors.regression ||
    evidence.latency.some((l) => l.regression) ||
    (evidence.tail as JudgeEvidence['tail'] | undefined)?.regression === true
  );
}

type Verdict = 'regression' | 'leans' | '';

function verdict(regression: boolean, logEValue: number | null): Verdict {
  if (regression) return 'regression';
  // Leaning shows only where the e-value, as displayed, is above 1.
  return logEValue !== null && Number(Math.exp(logEValue).toPrecision(3)) > 1 ? 'leans' : '';
}

/** One row per test: its current e-value, anytime p-value, α share, and the harm bound it goes with. */
function testRows(evidence: JudgeEvidence): Cell[][] {
  const errorHarm = errorHarmRow(evidence);
  const harm = latencyHarmRows(evidence);
  const errorLogE = finite(evidence.errors.logEValue);
  const rows: Cell[][] = [
    testRow(
      'errors',
      errorLogE,
      finite(evidence.errors.pValue),
      evidence.errors.alpha,
      evidence.errors.regression,
      errorHarm,
    ),
  ];
  for (const l of evidence.latency) {
    rows.push(
      testRow(
        quantileName(l.quantile),
        finite(l.exceedance.logEValue),
        finite(l.exceedance.pValue),
        l.alpha,
        l.regression,
        harm.find((h) => h.quantile === l.quantile),
      ),
    );
  }
  const tail = evidence.tail as JudgeEvidence['tail'] | undefined;
  if (tail !== undefined) {
    rows.push(
      testRow('tail', finite(tail.logEValue), finite(tail.pValue), tail.alpha, tail.regression, undefined),
    );
  }
  return rows;
}

function testRow(
  name: string,
  logEValue: number | null,
  pValue: number | null,
  alpha: number,
  regression: boolean,
  harm: HarmRow | undefined,
): Cell[] {
  const said = verdict(regression, logEValue);
  return [
    name,
    formatEValue(logEValue),
    `≥ ${formatNumber(1 / alpha)}`,
    formatNumber(pValue),
    formatNumber(alpha),
    {
      text: said === '' ? '–' : said,
      colour: said === 'regression' ? 'red' : said === 'leans' ? 'yellow' : undefined,
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
  const { primary, canary } = evidence.errors;
  const one = (name: string, v: typeof primary) =>
    `${name} ${v.requests} requests, ${v.errors} errors (${percent(finite(v.rate))})`;
  return `${one('primary', primary)} · ${one('canary', canary)}`;
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
  const table = renderTable(inner, JUDGE_TEST_HEADERS, testRows(evidence)).map((line) => indent + line);
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
    `canary ${canary.errors} of ${canary.requests} failed (${percent(finite(canary.rate))})`,
    `primary ${primary.errors} of ${primary.requests} (${percent(finite(primary.rate))})`,
    `e-values ${tests.join(', ')}`,
    `error-rate excess ${harm.bound} (maxHarm ${harm.allowed})`,
  ].join(' · ');
}
