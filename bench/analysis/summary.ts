/**
 * Figures per scenario and policy over many seeded rollouts: how often the rollout was rolled
 * back, how long decisions took and how many user requests the canary failed beyond what the
 * primary would have failed.
 */
import type { RolloutResult } from './run-rollout.js';

/** Aggregate of one (scenario, policy) cell. */
export interface PolicyFigures {
  readonly runs: number;
  /** Share of runs rolled back: the detection rate, or the false-rollback rate when healthy. */
  readonly rollbackRate: number;
  readonly promoteRate: number;
  readonly undecidedRate: number;
  /** Median seconds from first canary traffic to the decision, over all runs. */
  readonly medianDecisionS: number;
  /**
   * Median seconds to rollback, counting runs that were not rolled back as never (so it is
   * null when fewer than half the runs were rolled back).
   */
  readonly medianRollbackS: number | null;
  /** Median canary failures above the primary's error rate, over all runs. */
  readonly medianExcessFailures: number;
}

/** The median of a non-empty list (lower middle for even lengths: a value that occurred). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** Summarises one cell's runs. */
export function summarise(results: readonly RolloutResult[]): PolicyFigures {
  const n = results.length;
  const share = (outcome: RolloutResult['outcome']): number =>
    results.filter((r) => r.outcome === outcome).length / n;
  const rollbackTimes = results.map((r) => (r.outcome === 'rollback' ? r.decisionS : Infinity));
  const medianRollback = median(rollbackTimes);
  return {
    runs: n,
    rollbackRate: share('rollback'),
    promoteRate: share('promote'),
    undecidedRate: share('undecided'),
    medianDecisionS: median(results.map((r) => r.decisionS)),
    medianRollbackS: Number.isFinite(medianRollback) ? medianRollback : null,
    medianExcessFailures: Math.round(median(results.map((r) => r.excessFailures)) * 10) / 10,
  };
}

/**
 * One-sided 95% upper confidence bound (Clopper–Pearson) on a rate from `k` events in `n`
 * runs, by bisection on the binomial tail.
 */
export function upperBound95(k: number, n: number): number {
  if (k >= n) return 1;
  const tailAtMost = (p: number): number => {
    let term = Math.pow(1 - p, n);
    let sum = term;
    for (let i = 1; i <= k; i++) {
      term *= ((n - i + 1) / i) * (p / (1 - p));
      sum += term;
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
