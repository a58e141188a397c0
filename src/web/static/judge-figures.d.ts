/**
 * Types of judge-figures.js, the figures of the judge's evidence shared by the dashboard and
 * the CLI (see that module's header). Written by hand: the module is plain JS served to the
 * browser as-is, so TypeScript reads its types here. Kept in step with judge-figures.js.
 */
import type { JudgeEvidence } from '../../analysis/judge-decision.js';

/** A judge's evidence as a check or an event carries it, with the check's decision when known. */
export type CheckedJudgeEvidence = JudgeEvidence & { readonly decision?: string };

/** A judge check: the check's verdict line and the judge's evidence. */
export interface JudgeCheck {
  /** The check's detail: the judge's summary, or why it holds ("gathering evidence …"). */
  readonly detail: string | undefined;
  readonly evidence: CheckedJudgeEvidence;
}

/** Whether `value` is a plain object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown>;

/** Whether `value` has the shape of a judge's evidence (counts, tests, harm bounds). */
export function isJudgeEvidence(value: unknown): value is JudgeEvidence;

/**
 * The judge check in check results (`{metrics}`) or in an event's evidence, or a judge's
 * evidence itself. Undefined when there is none.
 */
export function judgeCheckOf(results: unknown): JudgeCheck | undefined;

/** A finite number, or null (JSON turns ±Infinity and NaN into null). */
export function finite(value: unknown): number | null;

/** Three significant digits, scientific notation outside 0.0001 … 99,999: 0.19, 0.00063, 6580, 3.6e+5. */
export function formatNumber(value: number | null | undefined): string;

/** An e-value from its logarithm; "–" when unknown. */
export function formatEValue(logEValue: number | null): string;

/** A rate as a percentage with two decimals, "0.11%"; "–" when unknown. */
export function formatPercent(rate: number | null): string;

/** `p50`, `p99.9`: a quantile's name. */
export function quantileName(q: number): string;

/** Requests, errors and the error rate (formatted) of one version. */
export interface CountRow {
  readonly version: 'primary' | 'canary';
  readonly requests: number;
  readonly errors: number;
  readonly rate: string;
}

/** Requests, errors and error rate of each version, primary first. */
export function countRows(evidence: JudgeEvidence): CountRow[];

/** How one harm bound reads: the canary's excess, what maxHarm allows, the margin left. */
export interface HarmRow {
  readonly bound: string;
  readonly allowed: string;
  /** "within by …", "over by …", or "–" while the bound is not known. */
  readonly margin: string;
  readonly within: boolean | null;
}

/** The error-rate bound against maxHarm. */
export function errorHarmRow(evidence: JudgeEvidence): HarmRow;

/** The latency bound at each quantile against maxHarm. */
export function latencyHarmRows(evidence: JudgeEvidence): (HarmRow & { readonly quantile: number })[];

/** A test's verdict: rejected, leaning to a regression (displayed e-value above 1), or neither. */
export type TestVerdict = 'regression' | 'leans' | '';

/** One test's figures, formatted; `harm` is the bound that goes with it (none for the tail test). */
export interface TestFigures {
  readonly name: string;
  readonly eValue: string;
  readonly rejectsAt: string;
  readonly pValue: string;
  readonly alpha: string;
  readonly verdict: TestVerdict;
  readonly harm: HarmRow | undefined;
}

/** One entry per test: errors, each latency quantile, then the tail test. */
export function testFigures(evidence: JudgeEvidence): TestFigures[];

/** The judge's decision, or (in evidence without one) whether any test rejected. */
export function isRegression(evidence: CheckedJudgeEvidence): boolean;

/** What the harm bounds allow next, e.g. "gathering evidence: ~1200 more canary requests before promotion (…)". */
export function nextMoveLine(evidence: CheckedJudgeEvidence): string;
