/**
 * The sequential judge: a pure function from (state, one observation window, config) to
 * (new state, decision, evidence). The scheduler feeds the per-version increments since its
 * last call, at any cadence; every test is anytime-valid, so looking after every window does
 * not inflate the false-rollback rate beyond α. See docs/adr/0002-sequential-judge.md.
 */
import { AviaryError } from '../errors.js';
import { toBucketCounts, type LatencyBuckets } from './bucket-counts.js';
import { updateCountTest } from './count-test.js';
import {
  addToBlock,
  blockRequests,
  MIN_BLOCK_REQUESTS,
  openBlock,
  type EvidenceBlock,
} from './evidence-block.js';
import { assess, type AssessOptions, type JudgeVerdict } from './judge-decision.js';
import type { JudgeConfig } from '../config/app-judge.js';
import type { JudgeState, VersionTotals } from './judge-state.js';
import { addLatencyWindow, primaryThresholdBuckets, updateExceedance } from './latency-test.js';
import { initTailTest, tailThresholdBuckets, updateTailTest } from './tail-test.js';

/** One version's increments since the previous window. */
export interface VersionWindow {
  readonly requests: number;
  readonly errors: number;
  /** Latencies of the window's requests (a `LatencySketch` will do). */
  readonly latency: LatencyBuckets;
}

/** Both versions over the same interval, as counted by the router. */
export interface JudgeWindow {
  readonly primary: VersionWindow;
  readonly canary: VersionWindow;
  /**
   * Configured canary weight during the window, when known. Evidence blocks never span a
   * change of it, which keeps the tests exact when weights step up mid-analysis.
   */
  readonly canaryWeight?: number;
}

/** Result of one step: the state to persist, the decision and its evidence. */
export interface JudgeStepResult extends JudgeVerdict {
  readonly state: JudgeState;
}

function checkWindow(name: 'primary' | 'canary', w: VersionWindow): void {
  const ok =
    Number.isInteger(w.requests) && Number.isInteger(w.errors) && w.errors >= 0 && w.errors <= w.requests;
  if (!ok) {
    throw new AviaryError(
      'AVIARY_JUDGE_WINDOW_INVALID',
      `judge window ${name}: expected whole numbers with 0 <= errors <= requests, got requests=${w.requests} errors=${w.errors}; the scheduler must pass counter increments, not totals or rates`,
    );
  }
}

/** Feeds one window; returns the new state, the decision and its evidence. Pure. */
export function judgeStep(
  state: JudgeState,
  window: JudgeWindow,
  config: JudgeConfig,
  options: AssessOptions = {},
): JudgeStepResult {
  const next = addWindow(state, window, config);
  const { decision, evidence } = assess(next, config, options);
  const sticky =
    decision === 'regression' && next.regression === null ? { ...next, regression: evidence.summary } : next;
  return { state: sticky, decision, evidence };
}

/**
 * The state part of {@link judgeStep}: the window added to the totals, the open block and,
 * when a block closes, every test. No decision is read (`assess` reads it); simulations that
 * need the decision only when some test is at its level use this.
 */
export function addWindow(state: JudgeState, window: JudgeWindow, config: JudgeConfig): JudgeState {
  checkWindow('primary', window.primary);
  checkWindow('canary', window.canary);
  const canaryWeight = window.canaryWeight ?? null;
  const increment = {
    primary: { ...window.primary, latency: toBucketCounts(window.primary.latency) },
    canary: { ...window.canary, latency: toBucketCounts(window.canary.latency) },
  };
  let errors = state.errors;
  let latency = state.latency;
  let block = state.block;
  const closeBlock = (closing: EvidenceBlock): void => {
    const served = blockRequests(closing);
    // Realised shares, not configured weights: the tests condition on what the router did.
    errors = updateCountTest(errors, {
      canaryEvents: closing.canary.errors,
      primaryEvents: closing.primary.errors,
      canaryShare: served === 0 ? 0 : closing.canary.requests / served,
    });
    latency = updateExceedance(latency, closing, config.quantiles, config.minEffect);
    latency = { ...latency, tail: updateTailTest(latency.tail ?? initTailTest(), closing, config.minEffect) };
  };
  if (block !== null && block.canaryWeight !== canaryWeight) {
    closeBlock(block);
    block = null;
  }
  // Thresholds of every latency test, fixed now from the data before the block.
  const thresholds = () => ({
    ...primaryThresholdBuckets(latency, config.quantiles),
    ...tailThresholdBuckets(latency.primary),
  });
  block = addToBlock(block ?? openBlock(canaryWeight, thresholds()), increment);
  latency = addLatencyWindow(latency, {
    primary: increment.primary.latency,
    canary: increment.canary.latency,
  });
  if (blockRequests(block) >= MIN_BLOCK_REQUESTS) {
    closeBlock(block);
    block = null;
  }
  return {
    windows: state.windows + 1,
    primary: add(state.primary, window.primary),
    canary: add(state.canary, window.canary),
    errors,
    latency,
    block,
    regression: state.regression,
  };
}

function add(t: VersionTotals, w: VersionWindow): VersionTotals {
  return { requests: t.requests + w.requests, errors: t.errors + w.errors };
}
