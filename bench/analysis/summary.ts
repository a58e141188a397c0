/**
 * Figures per scenario and policy over many seeded rollouts: how often the rollout was rolled
 * back (with an exact upper confidence bound) or promoted, how long decisions took and how
 * many user requests the canary failed beyond what the primary would have failed.
 */
import type { RolloutResult } from './run-rollout.js';

/** Aggregate of one (scenario, policy) cell. */
export interface PolicyFigures {
  readonly runs: number;
  /** Share of runs rolled back: the detection rate, or the false-rollback rate when healthy. */
  readonly rollbackRate: number;
  /** One-sided 95% Clopper–Pearson upper bound on the rollback rate. */
  readonly rollbackUpper95: number;
  readonly promoteRate: number;
  /** One-sided 95% Clopper–Pearson upper bound on the promotion rate. */
  readonly promoteUpper95: number;
  readonly undecidedRate: number;
  /** Share of runs the product's configuration check refused (the same for every seed). */
  readonly refusedRate: number;
  /** Why, when refused. */
  readonly refusal?: string;
  /** Share of runs rolled back by the judge itself (RegressionDetected), and its upper bound. */
  readonly judgeRollbackRate: number;
  readonly judgeRollbackUpper95: number;
  /** Rollbacks by the product's event reason (RegressionDetected, DeadlineExceeded, …). */
  readonly rollbackCauses: Readonly<Record<string, number>>;
  /** Median seconds from first canary traffic to the decision, over all runs. */
  readonly medianDecisionS: number;
  /** Median seconds to rollback, runs not rolled back counting as never (null when < half). */
  readonly medianRollbackS: number | null;
  /** Median seconds to promotion, runs not promoted counting as never (null when < half). */
  readonly medianPromoteS: number | null;
  /** Median canary failures above the primary's error rate, over all runs. */
  readonly medianExcessFailures: number;
}

/** The median of a non-empty list (lower middle for even lengths: a value that occurred). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);
const round4 = (x: number): number => Math.round(x * 10000) / 10000;

/** Summarises one cell's runs. */
export function summarise(results: readonly RolloutResult[]): PolicyFigures {
  const n = results.length;
  const count = (outcome: RolloutResult['outcome']): number =>
    results.filter((r) => r.outcome === outcome).length;
  const timeTo = (outcome: RolloutResult['outcome']): number | null =>
    finiteOrNull(median(results.map((r) => (r.outcome === outcome ? r.decisionS : Infinity))));
  const causes: Record<string, number> = {};
  for (const r of results)
    if (r.outcome === 'rollback' && r.cause !== undefined) causes[r.cause] = (causes[r.cause] ?? 0) + 1;
  const rollbacks = count('rollback');
  const judgeRollbacks = causes.RegressionDetected ?? 0;
  const refusal = results.find((r) => r.outcome === 'refused')?.cause;
  const promotions = count('promote');
  return {
    runs: n,
    rollbackRate: rollbacks / n,
    rollbackUpper95: round4(upperBound95(rollbacks, n)),
    promoteRate: promotions / n,
    promoteUpper95: round4(upperBound95(promotions, n)),
    undecidedRate: count('undecided') / n,
    refusedRate: count('refused') / n,
    ...(refusal === undefined ? {} : { refusal }),
    judgeRollbackRate: judgeRollbacks / n,
    judgeRollbackUpper95: round4(upperBound95(judgeRollbacks, n)),
    rollbackCauses: causes,
    medianDecisionS: median(results.map((r) => r.decisionS)),
    medianRollbackS: timeTo('rollback'),
    medianPromoteS: timeTo('promote'),
    medianExcessFailures: Math.round(median(results.map((r) => r.excessFailures)) * 10) / 10,
  };
}

/**
 * One-sided 95% upper confidence bound (Clopper–Pearson, exact) on a rate from `k` events in
 * `n` runs: the p at which P(Binomial(n, p) ≤ k) = 0.05, by bisection. The binomial tail is
 * summed in log space so that n = 2,000 neither underflows nor overflows.
 */
export function upperBound95(k: number, n: number): number {
  if (k >= n) return 1;
  const tailAtMost = (p: number): number => {
    let logTerm = n * Math.log1p(-p);
    let sum = Math.exp(logTerm);
    for (let i = 1; i <= k; i++) {
      logTerm += Math.log((n - i + 1) / i) + Math.log(p) - Math.log1p(-p);
      sum += Math.exp(logTerm);
    }
    return sum;
  };
  let lo = k / n;
  let hi = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (tailAtMost(mid) > 0.05) lo = mid;
    else hi = mid;
  }
  return hi;
}
