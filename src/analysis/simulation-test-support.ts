/**
 * Simulated per-second traffic for the judge's statistical tests (A/A, tail power): both
 * versions' requests, errors and latencies from a seeded generator, as the judge's windows.
 * Not used by the judge; latencies go into sparse buckets (the sketch's own bucket indices)
 * so that tens of thousands of simulated rollouts stay fast.
 */
import { splitAlpha } from './alpha-split.js';
import type { LatencyBuckets } from './bucket-counts.js';
import { countTestPValue } from './count-test.js';
import { bucketIndex } from './latency-sketch.js';
import { addWindow, type JudgeWindow, type VersionWindow } from './judge.js';
import { assess } from './judge-decision.js';
import { initJudgeState, type JudgeState } from './judge-state.js';
import { binomialDraw, normalDraw, poisson } from './test-support.js';
import { DEFAULT_JUDGE_CONFIG, type JudgeConfig } from '../config/app-judge.js';

/** Median of the base latency, in ms (the bench's). */
export const BASE_MEDIAN_MS = 40;
/** Log-space standard deviation giving p99 = 100 ms (the bench's). */
export const LATENCY_SIGMA = Math.log(100 / BASE_MEDIAN_MS) / 2.3263478740408408;

/** A latency sketch's buckets without its dense array: what the judge reads, built cheaply. */
export class SparseLatencyBuckets implements LatencyBuckets {
  private readonly counts = new Map<number, number>();
  count = 0;

  /** Records one latency in milliseconds, in the sketch's bucket. */
  add(ms: number): void {
    const index = bucketIndex(ms);
    this.counts.set(index, (this.counts.get(index) ?? 0) + 1);
    this.count++;
  }

  /** Non-empty buckets in ascending order as `[index, count]`. */
  buckets(): Iterable<readonly [number, number]> {
    return [...this.counts.entries()].sort((a, b) => a[0] - b[0]);
  }
}

/** How one version behaves during a window. */
export interface VersionBehaviour {
  readonly errorRate: number;
  /** Multiplies every latency (default 1). */
  readonly latencyFactor?: number;
  /** A share of requests delayed by `addMs` (a stall, a slow dependency). */
  readonly stall?: { readonly share: number; readonly addMs: number };
}

/** Both versions during one window. */
export interface WindowBehaviour {
  /** Mean requests in the window (Poisson). */
  readonly requests: number;
  /** Configured canary weight, percent; each request goes to the canary with this probability. */
  readonly canaryWeight: number;
  readonly primary: VersionBehaviour;
  readonly canary: VersionBehaviour;
}

function versionWindow(random: () => number, requests: number, b: VersionBehaviour): VersionWindow {
  const latency = new SparseLatencyBuckets();
  const factor = BASE_MEDIAN_MS * (b.latencyFactor ?? 1);
  for (let i = 0; i < requests; i++) {
    let ms = factor * Math.exp(LATENCY_SIGMA * normalDraw(random));
    if (b.stall !== undefined && random() < b.stall.share) ms += b.stall.addMs;
    latency.add(ms);
  }
  return { requests, errors: binomialDraw(random, requests, b.errorRate), latency };
}

/** One window: requests routed independently to each version, as the router does. */
export function simulateWindow(random: () => number, b: WindowBehaviour): JudgeWindow {
  const total = poisson(random, b.requests);
  const canary = binomialDraw(random, total, b.canaryWeight / 100);
  return {
    primary: versionWindow(random, total - canary, b.primary),
    canary: versionWindow(random, canary, b.canary),
    canaryWeight: b.canaryWeight,
  };
}

/**
 * Whether `assess` could return a regression for this state: every regression it declares
 * needs some test's anytime-valid p-value at or below that test's share of α (the latency
 * quantiles also need their fixed effect rule, which can only veto). Simulations read the full
 * decision whenever this holds and skip the costly evidence (bounds, bands) otherwise;
 * judge-aa.test.ts checks against `judgeStep` that this never skips a regression.
 */
export function regressionPossible(state: JudgeState, config: JudgeConfig): boolean {
  const alpha = splitAlpha(config);
  if (countTestPValue(state.errors) <= alpha.errors) return true;
  if (Math.exp(-(state.latency.tail?.maxLogEValue ?? 0)) <= alpha.tail) return true;
  return Object.values(state.latency.exceedance).some((e) => countTestPValue(e.test) <= alpha.perQuantile);
}

/** The judge's decision after each of `windows` simulated windows; the look of the first regression, or null. */
export function firstRegression(
  random: () => number,
  windows: number,
  windowAt: (t: number) => WindowBehaviour,
  config: JudgeConfig = DEFAULT_JUDGE_CONFIG,
): { look: number; summary: string } | null {
  let state = initJudgeState();
  for (let t = 0; t < windows; t++) {
    state = addWindow(state, simulateWindow(random, windowAt(t)), config);
    if (!regressionPossible(state, config)) continue;
    const { decision, evidence } = assess(state, config);
    if (decision === 'regression') return { look: t, summary: evidence.summary };
  }
  return null;
}
