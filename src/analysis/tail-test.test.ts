import { describe, expect, it } from 'vitest';
import { toBucketCounts } from './bucket-counts.js';
import { addToBlock, openBlock, type EvidenceBlock } from './evidence-block.js';
import {
  assessTail,
  describeTailRegression,
  initTailTest,
  TAIL_THRESHOLDS,
  tailKey,
  tailThresholdBuckets,
  updateTailTest,
} from './tail-test.js';
import { firstRegression, SparseLatencyBuckets, type VersionBehaviour } from './simulation-test-support.js';
import { createRandom } from './test-support.js';
import { DEFAULT_JUDGE_CONFIG } from '../config/app-judge.js';

const MIN_EFFECT = DEFAULT_JUDGE_CONFIG.minEffect;
/** No minimum effect: the null is then exact equality, where the bound is tightest. */
const NO_EFFECT = { relative: 0, absoluteMs: 0 };

function bucketsOf(latenciesMs: readonly number[]) {
  const sketch = new SparseLatencyBuckets();
  for (const ms of latenciesMs) sketch.add(ms);
  return toBucketCounts(sketch);
}

/** A block whose thresholds come from `history` (the primary before it) and whose requests are given. */
function blockOf(
  history: readonly number[],
  primaryMs: readonly number[],
  canaryMs: readonly number[],
): EvidenceBlock {
  const side = (ms: readonly number[]) => ({ requests: ms.length, errors: 0, latency: bucketsOf(ms) });
  return addToBlock(openBlock(null, tailThresholdBuckets(bucketsOf(history))), {
    primary: side(primaryMs),
    canary: side(canaryMs),
  });
}

/** All k-subsets of 0..n−1. */
function subsets(n: number, k: number): number[][] {
  if (k === 0) return [[]];
  if (n < k) return [];
  return [...subsets(n - 1, k), ...subsets(n - 1, k - 1).map((s) => [...s, n - 1])];
}

describe('tail test: validity', () => {
  it('gives weights that sum to 1', () => {
    expect(TAIL_THRESHOLDS.reduce((sum, t) => sum + t.weight, 0)).toBeCloseTo(1, 12);
  });

  it('is the weighted mean of its thresholds’ e-values', () => {
    const history = Array.from({ length: 2000 }, (_, i) => 20 + (i % 100));
    const slow = [30, 40, 1000, 2000, 3000, 60, 50, 30];
    let state = initTailTest();
    for (let b = 0; b < 3; b++)
      state = updateTailTest(state, blockOf(history, [30, 40, 50, 60], slow), MIN_EFFECT);
    const mean = TAIL_THRESHOLDS.reduce(
      (sum, t) => sum + t.weight * Math.exp(state.levels[tailKey(t)]?.test.logBayesFactor ?? 0),
      0,
    );
    expect(Math.exp(state.logEValue)).toBeCloseTo(mean, 9);
    expect(state.maxLogEValue).toBeGreaterThan(Math.log(10));
  });

  it('has conditional mean ≤ 1 for one block when the canary is a uniformly random subset of the requests (exact enumeration)', () => {
    // The null given the block: its latencies are fixed, and which of them were the canary's is
    // a uniformly random set of the canary's size (routing independent of latency). Some are
    // far above every threshold, so the tail thresholds all see events.
    const history = Array.from({ length: 5000 }, (_, i) => 20 + ((i * 37) % 80));
    const latencies = [25, 40, 55, 70, 90, 99, 150, 400, 1200, 3000, 35, 60];
    for (const canarySize of [1, 3, 6]) {
      let sum = 0;
      const sets = subsets(latencies.length, canarySize);
      for (const set of sets) {
        const canary = set.map((i) => latencies[i]!);
        const primary = latencies.filter((_, i) => !set.includes(i));
        sum += Math.exp(
          updateTailTest(initTailTest(), blockOf(history, primary, canary), NO_EFFECT).logEValue,
        );
      }
      // Measured 0.51, 0.58, 0.73 (canary sizes 1, 3, 6): below 1 (the sampling is without replacement, Hoeffding's
      // domination is strict here), and not exactly 1, so every threshold saw slow requests.
      expect(sum / sets.length).toBeLessThanOrEqual(1);
      expect(sum / sets.length).toBeLessThan(0.99);
    }
  });
});

describe('tail test: power at 50 requests/s, weights 10% → 50% (+10 points a minute), then held at 50%', () => {
  const weightAt = (t: number) => Math.min(50, 10 * (1 + Math.floor(t / 60)));
  const run = (seed: number, runs: number, windows: number, canary: Omit<VersionBehaviour, 'errorRate'>) => {
    const random = createRandom(seed);
    return Array.from({ length: runs }, () =>
      firstRegression(random, windows, (t) => ({
        requests: 50,
        canaryWeight: weightAt(t),
        primary: { errorRate: 0.005 },
        canary: { errorRate: 0.005, ...canary },
      })),
    );
  };

  it('catches 1% of canary requests +300 ms: ≥ 95% within the 5-minute rollout (measured 100%, median 88 s)', () => {
    const results = run(51, 100, 300, { stall: { share: 0.01, addMs: 300 } });
    const looks = results.map((r) => r?.look ?? Infinity).sort((a, b) => a - b);
    expect(looks.filter((l) => l < 300).length).toBeGreaterThanOrEqual(95);
    expect(looks[50]).toBeLessThanOrEqual(150);
    expect(results.filter((r) => r?.summary.includes('latency tail')).length).toBeGreaterThanOrEqual(90);
  });

  it('catches 0.2% of canary requests stalled +2 s: ≥ 95% within 10 minutes (measured 100%; 61% within 5)', () => {
    // The evidence is the stalls themselves: ~9 in the first 5 minutes, each worth at most
    // ln(1/ρ) nats (2.3 at 10%, 0.69 at 50%), ~9.8 nats in all against the ln(8/α) + ln(1/0.25)
    // = 8.1 needed at the tail test's share of α, so a bit over half the runs can be caught
    // within 5 minutes by any test immune to shared incidents; holding at 50% adds 0.035 nats/s.
    const results = run(52, 100, 600, { stall: { share: 0.002, addMs: 2000 } });
    const looks = results.map((r) => r?.look ?? Infinity);
    expect(looks.filter((l) => l < 600).length).toBeGreaterThanOrEqual(95);
    expect(looks.filter((l) => l < 300).length).toBeGreaterThanOrEqual(45);
    const summary = results.find((r) => r !== null)!.summary;
    expect(summary).toMatch(
      /latency tail: \d+ canary requests > [\d.]+ ms where [\d.]+ were expected \(primary \d× p99\.9 [\d.]+ ms: \d+ slower; p = /,
    );
  });

  it('never rolls back a canary that is faster (one-sided): 0 of 50 runs at ×0.7 latency', () => {
    expect(run(53, 50, 300, { latencyFactor: 0.7 }).filter((r) => r !== null)).toEqual([]);
  });
});

describe('tail test: evidence', () => {
  it('names every threshold with its counts, and the one that shifted most in the summary', () => {
    const history = Array.from({ length: 2000 }, (_, i) => 20 + (i % 100));
    let state = initTailTest();
    for (let b = 0; b < 20; b++)
      state = updateTailTest(state, blockOf(history, [30, 40, 50, 60, 70], [30, 45, 2500]), MIN_EFFECT);
    const evidence = assessTail(state, 0.000625);
    expect(evidence.thresholds.map((t) => tailKey(t))).toEqual(TAIL_THRESHOLDS.map(tailKey));
    const far = evidence.thresholds.find((t) => t.multiple === 5)!;
    expect(far.canarySlow).toBe(20);
    expect(far.primarySlow).toBe(0);
    expect(far.canaryExpected).toBeCloseTo(20 * (3 / 8), 9);
    expect(evidence.regression).toBe(true);
    expect(describeTailRegression(evidence)).toMatch(
      /^latency tail: 20 canary requests > [\d.]+ ms where 7\.5 were expected \(primary \d× p99\.9/,
    );
  });
});
