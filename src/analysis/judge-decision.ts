/**
 * Turns the judge's state into a decision and the evidence behind it: counts, effect
 * estimates, anytime-valid bounds and p- and e-values for every test, plus one line for
 * humans. Also says whether a rollout may take a step or promote on that decision.
 */
import { countTestBounds, countTestPValue, showsNonInferiority } from './count-test.js';
import type { JudgeConfig } from '../config/app-judge.js';
import { splitAlpha, type AlphaSplit } from './alpha-split.js';
import type { JudgeState, VersionTotals } from './judge-state.js';
import { assessLatency, type LatencyQuantileEvidence } from './latency-test.js';
import { assessTail, describeTailRegression, type TailEvidence } from './tail-test.js';

/**
 * - `regression`: roll back now (a test rejected at its share of α; this never reverts).
 * - `insufficient-data`: fewer than `minCanaryRequests` canary requests; hold, not a failure.
 * - `pass`: no regression and the minimum evidence; the next step may proceed.
 * - `non-inferior`: `pass`, and non-inferiority is shown (only with `earlyPromotion`).
 */
export type JudgeDecision = 'regression' | 'insufficient-data' | 'pass' | 'non-inferior';

/** Evidence of the error test. Rates are errors per request; null when undefined. */
export interface ErrorEvidence {
  readonly primary: VersionTotals & { readonly rate: number | null };
  readonly canary: VersionTotals & { readonly rate: number | null };
  /** Canary rate minus primary rate (observed). */
  readonly rateDifference: number | null;
  /**
   * Canary-to-primary error-rate ratio: maximum-likelihood estimate and anytime-valid bounds at
   * the error test's level (the ratio is above `lower` and below `upper`; null = unbounded).
   */
  readonly rateRatio: {
    readonly estimate: number;
    readonly lower: number | null;
    readonly upper: number | null;
  };
  /** Errors the test has read (those in the still-open evidence block are not yet counted). */
  readonly primaryEvents: number;
  readonly canaryEvents: number;
  readonly logEValue: number;
  readonly pValue: number;
  readonly alpha: number;
  readonly regression: boolean;
  readonly nonInferior: boolean;
}

/** What a decision rests on; goes into events, the API and the dashboard as is. */
export interface JudgeEvidence {
  readonly alpha: AlphaSplit;
  readonly canaryRequests: number;
  readonly minCanaryRequests: number;
  readonly errors: ErrorEvidence;
  readonly latency: readonly LatencyQuantileEvidence[];
  /** The tail test over the whole latency distribution, and which tails shifted. */
  readonly tail: TailEvidence;
  /**
   * True while some regression test's current e-value exceeds 1: the data favour a regression
   * without (yet) proving one. {@link mayAdvance} then refuses the promotion, never a step.
   */
  readonly leansToRegression: boolean;
  /** One line for humans, e.g. "regression: error rate 4.09% vs 0.69% (ratio > 1.00, p = 0.0073 ≤ 0.0075)". */
  readonly summary: string;
}

/** A decision and its evidence. */
export interface JudgeVerdict {
  readonly decision: JudgeDecision;
  readonly evidence: JudgeEvidence;
}

function percent(rate: number | null): string {
  return rate === null ? 'n/a' : `${(rate * 100).toFixed(2)}%`;
}

function rate(t: VersionTotals): number | null {
  return t.requests > 0 ? t.errors / t.requests : null;
}

/** Decision and evidence for a state (what the last `judgeStep` returned with it). */
export function assess(state: JudgeState, config: JudgeConfig): JudgeVerdict {
  const alpha = splitAlpha(config);
  const margin = config.earlyPromotion?.nonInferiorityMargin;
  const bounds = countTestBounds(state.errors, alpha.errors);
  const pValue = countTestPValue(state.errors);
  const errors: ErrorEvidence = {
    primary: { ...state.primary, rate: rate(state.primary) },
    canary: { ...state.canary, rate: rate(state.canary) },
    rateDifference:
      state.primary.requests > 0 && state.canary.requests > 0
        ? rate(state.canary)! - rate(state.primary)!
        : null,
    rateRatio: {
      estimate: Math.exp(bounds.estimate),
      lower: bounds.lower === null ? null : Math.exp(bounds.lower),
      upper: bounds.upper === null ? null : Math.exp(bounds.upper),
    },
    primaryEvents: state.errors.primaryEvents,
    canaryEvents: state.errors.canaryEvents,
    logEValue: state.errors.logBayesFactor,
    pValue,
    alpha: alpha.errors,
    regression: pValue <= alpha.errors,
    nonInferior: margin !== undefined && showsNonInferiority(state.errors, Math.log1p(margin), alpha.errors),
  };
  const latency = assessLatency(state.latency, config.quantiles, config.minEffect, alpha, margin);
  const regressed = latency.filter((l) => l.regression);
  const tail = assessTail(state.latency.tail, alpha.tail);
  let decision: JudgeDecision;
  let summary: string;
  if (state.regression !== null && !errors.regression && regressed.length === 0 && !tail.regression) {
    // A regression once shown stays shown: the bands may later overlap again by chance.
    decision = 'regression';
    summary = state.regression;
  } else if (errors.regression || regressed.length > 0 || tail.regression) {
    decision = 'regression';
    const parts = [
      ...(errors.regression ? [describeErrorRegression(errors)] : []),
      ...regressed.map(describeLatencyRegression),
      ...(tail.regression ? [describeTailRegression(tail)] : []),
    ];
    summary = `regression: ${parts.join('; ')}`;
  } else if (state.canary.requests < config.minCanaryRequests) {
    decision = 'insufficient-data';
    summary = `insufficient data: ${state.canary.requests} of ${config.minCanaryRequests} canary requests`;
  } else if (margin !== undefined && errors.nonInferior && latency.every((l) => l.nonInferior)) {
    decision = 'non-inferior';
    const ratioBound = errors.rateRatio.upper?.toFixed(2) ?? '?';
    summary = `non-inferior within ${(margin * 100).toFixed(0)}%: error-rate ratio ≤ ${ratioBound}, every quantile band within the margin`;
  } else {
    decision = 'pass';
    const rates = `${percent(errors.canary.rate)} vs ${percent(errors.primary.rate)}`;
    summary = `no regression: error rate ${rates} (p = ${pValue.toPrecision(2)}), ${state.canary.requests} canary requests`;
  }
  return {
    decision,
    evidence: {
      alpha,
      canaryRequests: state.canary.requests,
      minCanaryRequests: config.minCanaryRequests,
      errors,
      latency,
      tail,
      leansToRegression:
        errors.logEValue > 0 || latency.some((l) => l.exceedance.logEValue > 0) || tail.logEValue > 0,
      summary,
    },
  };
}

/**
 * Whether the rollout may take its next step (`step`) or promote (`promotion`). Steps need
 * `pass` or `non-inferior`. Promotion, which is irreversible and gives every user the canary,
 * also needs the evidence not to lean towards a regression: the rollout then holds at its last
 * weight and keeps feeding windows until the judge proves a regression or the lean fades.
 * Holding never costs validity: every test is anytime-valid.
 */
export function mayAdvance(result: JudgeVerdict, next: 'step' | 'promotion'): boolean {
  const passed = result.decision === 'pass' || result.decision === 'non-inferior';
  return passed && (next === 'step' || !result.evidence.leansToRegression);
}

function describeErrorRegression(e: ErrorEvidence): string {
  const ratio = (e.rateRatio.lower ?? 1).toFixed(2);
  return `error rate ${percent(e.canary.rate)} vs ${percent(e.primary.rate)} (ratio > ${ratio}, p = ${e.pValue.toPrecision(2)} ≤ ${e.alpha})`;
}

function describeLatencyRegression(l: LatencyQuantileEvidence): string {
  const slow = `slow ${l.exceedance.canarySlow} canary vs ${l.exceedance.primarySlow} primary`;
  const test = `p = ${l.exceedance.pValue.toPrecision(2)} ≤ ${l.alpha.toPrecision(2)}`;
  return `p${Math.round(l.quantile * 10000) / 100} ${fmtMs(l.canary.estimateMs)} vs ${fmtMs(l.primary.estimateMs)} (${slow}, ${test}; canary ≥ ${fmtMs(l.canary.lowerMs)})`;
}

function fmtMs(ms: number | null): string {
  return ms === null ? '?' : `${ms.toFixed(1)} ms`;
}
