/**
 * Turns the judge's state into a decision and the evidence behind it: counts, effect
 * estimates, p- and e-values for every test, the anytime-valid harm bounds, plus one line for
 * humans. Also says whether a rollout may take a step or promote on that decision: only once
 * the harm bounds show the canary within `maxHarm` (docs/adr/0015-harm-bounds.md).
 */
import { countTestEstimate, countTestPValue } from './count-test.js';
import type { JudgeConfig } from '../config/app-judge.js';
import { splitAlpha, type AlphaSplit } from './alpha-split.js';
import { harmBounds, moreCanaryRequestsFor, type HarmBounds } from './harm-bounds.js';
import type { JudgeState, VersionTotals } from './judge-state.js';
import { assessLatency, type LatencyQuantileEvidence } from './latency-test.js';
import { assessTail, describeTailRegression, type TailEvidence } from './tail-test.js';

/**
 * - `regression`: roll back now (a test rejected at its share of α; this never reverts).
 * - `insufficient-data`: fewer than `minCanaryRequests` canary requests; hold, not a failure.
 * - `pass`: no regression and the minimum evidence; whether the next step or the promotion may
 *   proceed also depends on the harm bounds ({@link mayAdvance}).
 */
export type JudgeDecision = 'regression' | 'insufficient-data' | 'pass';

/** Evidence of the error test. Rates are errors per request; null when undefined. */
export interface ErrorEvidence {
  readonly primary: VersionTotals & { readonly rate: number | null };
  readonly canary: VersionTotals & { readonly rate: number | null };
  /** Canary rate minus primary rate (observed). */
  readonly rateDifference: number | null;
  /** Canary-to-primary error-rate ratio, the count test's maximum-likelihood estimate. */
  readonly rateRatio: { readonly estimate: number };
  /** Errors the test has read (those in the still-open evidence block are not yet counted). */
  readonly primaryEvents: number;
  readonly canaryEvents: number;
  readonly logEValue: number;
  readonly pValue: number;
  readonly alpha: number;
  readonly regression: boolean;
}

/** The harm bounds and what they allow, as events and the dashboard show them. */
export interface HarmEvidence extends HarmBounds {
  readonly maxHarm: JudgeConfig['maxHarm'];
  /**
   * Canary requests the bounds likely still need before promotion (null: not at these rates).
   * Absent at a look between check ticks, which can only roll back: the projection costs a
   * few hundred bound evaluations ({@link AssessOptions}).
   */
  readonly moreCanaryRequestsToPromote?: number | null;
}

/** What a decision rests on; goes into events, the API and the dashboard as is. */
export interface JudgeEvidence {
  readonly alpha: AlphaSplit;
  readonly canaryRequests: number;
  readonly minCanaryRequests: number;
  readonly errors: ErrorEvidence;
  readonly latency: readonly LatencyQuantileEvidence[];
  /**
   * The harm bounds. Absent only at a look that finds no regression ({@link AssessOptions}):
   * such a look is asked whether to roll back and nothing else, and its result is not shown.
   */
  readonly harm?: HarmEvidence;
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

/** A decision, its evidence, and the state it was read from. */
export interface JudgeVerdict {
  readonly decision: JudgeDecision;
  readonly evidence: JudgeEvidence;
  readonly state: JudgeState;
}

function percent(rate: number | null): string {
  return rate === null ? 'n/a' : `${(rate * 100).toFixed(2)}%`;
}

function rate(t: VersionTotals): number | null {
  return t.requests > 0 ? t.errors / t.requests : null;
}

/** How much of the evidence to work out. */
export interface AssessOptions {
  /**
   * True at a look between check ticks (default false), which only asks whether to roll back
   * (ADR 0017): the harm bounds, the costliest part of the evidence and needed only to move
   * a rollout forward, are worked out only when the look finds a regression (its rollback
   * event shows them), and never projected.
   */
  readonly look?: boolean;
}

/** Decision and evidence for a state (what the last `judgeStep` returned with it). */
export function assess(state: JudgeState, config: JudgeConfig, options: AssessOptions = {}): JudgeVerdict {
  const alpha = splitAlpha(config);
  const pValue = countTestPValue(state.errors);
  const errors: ErrorEvidence = {
    primary: { ...state.primary, rate: rate(state.primary) },
    canary: { ...state.canary, rate: rate(state.canary) },
    rateDifference:
      state.primary.requests > 0 && state.canary.requests > 0
        ? rate(state.canary)! - rate(state.primary)!
        : null,
    rateRatio: { estimate: Math.exp(countTestEstimate(state.errors)) },
    primaryEvents: state.errors.primaryEvents,
    canaryEvents: state.errors.canaryEvents,
    logEValue: state.errors.logBayesFactor,
    pValue,
    alpha: alpha.errors,
    regression: pValue <= alpha.errors,
  };
  const latency = assessLatency(state.latency, config.quantiles, config.minEffect, alpha);
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
  } else {
    decision = 'pass';
    summary = 'no regression';
  }
  const look = options.look === true;
  const harm = look && decision !== 'regression' ? undefined : harmEvidence(state, config, decision, look);
  if (decision === 'pass') {
    const rates = `${percent(errors.canary.rate)} vs ${percent(errors.primary.rate)}`;
    const bounds = harm === undefined ? '' : `; ${describeHarm(harm)}`;
    summary = `no regression: error rate ${rates} (p = ${pValue.toPrecision(2)}), ${state.canary.requests} canary requests${bounds}`;
  }
  return {
    decision,
    state,
    evidence: {
      alpha,
      canaryRequests: state.canary.requests,
      minCanaryRequests: config.minCanaryRequests,
      errors,
      latency,
      ...(harm === undefined ? {} : { harm }),
      tail,
      leansToRegression:
        errors.logEValue > 0 || latency.some((l) => l.exceedance.logEValue > 0) || tail.logEValue > 0,
      summary,
    },
  };
}

/**
 * The harm bounds and, when the gate may be holding a check's move, how many more canary
 * requests promotion likely needs (a few hundred bound evaluations, so not at looks).
 */
function harmEvidence(
  state: JudgeState,
  config: JudgeConfig,
  decision: JudgeDecision,
  look: boolean,
): HarmEvidence {
  const bounds = harmBounds(state, config);
  const projection = bounds.withinMaxHarm
    ? { moreCanaryRequestsToPromote: 0 }
    : decision !== 'pass'
      ? { moreCanaryRequestsToPromote: null }
      : look
        ? {}
        : { moreCanaryRequestsToPromote: moreCanaryRequestsFor(state, config, 100) };
  return { ...bounds, maxHarm: config.maxHarm, ...projection };
}

/** What the rollout would do next: a step to a canary weight (percent), or the promotion. */
export type NextMove = { readonly kind: 'step'; readonly weight: number } | { readonly kind: 'promotion' };

/** Whether the rollout may make its next move, and if not, why it holds (for humans). */
export type AdvanceAnswer = { readonly advance: true } | { readonly advance: false; readonly hold: string };

/**
 * Whether the rollout may make its next move on this verdict. Both need `pass` and harm
 * bounds that allow the move: a step to weight w needs the canary's error-rate excess, spread
 * over w % of the traffic, within maxHarm; the promotion needs the canary itself within
 * maxHarm on errors and at every latency quantile. Holding never costs validity: every test
 * and bound is anytime-valid. The evidence "leaning" towards a regression (some e-value above
 * 1) is shown but does not hold the promotion: with several tests one of them is above 1 much
 * of the time under no regression at all, so such a hold kept healthy canaries waiting
 * indefinitely, and the bounds already say how much worse the canary can be.
 */
export function mayAdvance(result: JudgeVerdict, next: NextMove, config: JudgeConfig): AdvanceAnswer {
  const { decision, evidence } = result;
  if (decision !== 'pass') return { advance: false, hold: evidence.summary };
  const harm = evidence.harm ?? harmEvidence(result.state, config, decision, true);
  const allowed = next.kind === 'promotion' ? harm.withinMaxHarm : harm.allowedWeight >= next.weight;
  if (!allowed) {
    return {
      advance: false,
      hold: gatheringEvidence(result, harm, next.kind === 'promotion' ? 100 : next.weight, config),
    };
  }
  return { advance: true };
}

/** "gathering evidence before …: ~N more canary requests (…)" for a move to `weight`. */
function gatheringEvidence(
  result: JudgeVerdict,
  harm: HarmEvidence,
  weight: number,
  config: JudgeConfig,
): string {
  const more =
    weight >= 100 && harm.moreCanaryRequestsToPromote !== undefined
      ? harm.moreCanaryRequestsToPromote
      : moreCanaryRequestsFor(result.state, config, weight);
  const target = weight >= 100 ? 'promotion' : `weight ${weight}%`;
  const estimate =
    result.state.canary.requests === 0 || result.state.primary.requests === 0
      ? 'no requests to compare yet'
      : more === null
        ? 'the excess observed so far is beyond maxHarm; more data at these rates would not clear it'
        : `~${more} more canary requests`;
  return `gathering evidence before ${target}: ${estimate} (${describeHarm(harm)})`;
}

/** e.g. "error-rate excess < 0.62 pp (max 0.50 pp), p99 excess < 14.0 ms; steps allowed up to 80%". */
function describeHarm(harm: HarmEvidence): string {
  const { errors, maxHarm } = harm;
  const parts = [`error-rate excess < ${pp(errors.excessUpper)} (max ${pp(maxHarm.errorRate.absolute)})`];
  for (const l of harm.latency) {
    const name = `p${Math.round(l.quantile * 10000) / 100}`;
    parts.push(
      l.excessUpperMs === null ? `${name} not yet bounded` : `${name} excess < ${fmtMs(l.excessUpperMs)}`,
    );
  }
  const moves = harm.withinMaxHarm
    ? 'within maxHarm'
    : `steps allowed up to ${Math.floor(harm.allowedWeight)}%, promotion not yet`;
  return `${parts.join(', ')}; ${moves}`;
}

function pp(rate: number): string {
  return `${(rate * 100).toFixed(2)} pp`;
}

function describeErrorRegression(e: ErrorEvidence): string {
  const ratio = e.rateRatio.estimate.toFixed(2);
  return `error rate ${percent(e.canary.rate)} vs ${percent(e.primary.rate)} (ratio ≈ ${ratio}, p = ${e.pValue.toPrecision(2)} ≤ ${e.alpha})`;
}

function describeLatencyRegression(l: LatencyQuantileEvidence): string {
  const slow = `slow ${l.exceedance.canarySlow} canary vs ${l.exceedance.primarySlow} primary`;
  const test = `p = ${l.exceedance.pValue.toPrecision(2)} ≤ ${l.alpha.toPrecision(2)}`;
  return `p${Math.round(l.quantile * 10000) / 100} ${fmtMs(l.canary.estimateMs)} vs ${fmtMs(l.primary.estimateMs)} (${slow}, ${test}; canary ≥ ${fmtMs(l.canary.lowerMs)})`;
}

function fmtMs(ms: number | null): string {
  return ms === null ? '?' : `${ms.toFixed(1)} ms`;
}
