/**
 * Why `analysis.judge` is refused with session affinity (ADR 0016): the same healthy users, the
 * canary identical to the primary, routed per request and then per user.
 * Users differ: 5% of them fail 30% of their requests, the rest 0.3%.
 */
import { describe, expect, it } from 'vitest';
import { addWindow } from './judge.js';
import { assess } from './judge-decision.js';
import { initJudgeState } from './judge-state.js';
import { regressionPossible, SparseLatencyBuckets } from './simulation-test-support.js';
import { binomialDraw, binomialQuantile, createRandom, poisson } from './test-support.js';
import { DEFAULT_JUDGE_CONFIG } from '../config/app-judge.js';

interface User {
  readonly errorRate: number;
  readonly leavesAt: number;
  /** The version a sticky cookie pins the user to. */
  readonly pinned: 'primary' | 'canary';
}

/**
 * Whether a 10-minute A/A rollout (weights 10% → 50%, +10 a minute) is rolled back. Users
 * arrive at 0.5 a second, stay 2 minutes on average and send 0.5 requests a second (~15 rps).
 */
function falseRollback(random: () => number, sticky: boolean): boolean {
  let users: User[] = [];
  let state = initJudgeState();
  for (let t = 0; t < 600; t++) {
    const weight = Math.min(50, 10 * (1 + Math.floor(t / 60)));
    for (let i = poisson(random, 0.5); i > 0; i--) {
      users.push({
        errorRate: random() < 0.05 ? 0.3 : 0.003,
        leavesAt: t - 120 * Math.log(1 - random()),
        pinned: random() < weight / 100 ? 'canary' : 'primary',
      });
    }
    users = users.filter((u) => u.leavesAt > t);
    const side = () => ({ requests: 0, errors: 0, latency: new SparseLatencyBuckets() });
    const window = { primary: side(), canary: side(), canaryWeight: weight };
    for (const user of users) {
      for (let i = poisson(random, 0.5); i > 0; i--) {
        const version = sticky ? user.pinned : random() < weight / 100 ? 'canary' : 'primary';
        const served = window[version];
        served.requests++;
        served.errors += binomialDraw(random, 1, user.errorRate);
        served.latency.add(40);
      }
    }
    state = addWindow(state, window, DEFAULT_JUDGE_CONFIG);
    if (!regressionPossible(state, DEFAULT_JUDGE_CONFIG)) continue;
    if (assess(state, DEFAULT_JUDGE_CONFIG).decision === 'regression') return true;
  }
  return false;
}

describe('judge: heterogeneous users, A/A', () => {
  const RUNS = 300;
  const count = (seed: number, sticky: boolean) => {
    const random = createRandom(seed);
    return Array.from({ length: RUNS }, () => falseRollback(random, sticky)).filter(Boolean).length;
  };

  it('stays within α when each request is routed on its own', () => {
    // Measured 2 of 300. Tolerance: the 99th percentile of Binomial(300, 0.01), 8; a judge at
    // exactly α exceeds it 1% of the time.
    expect(count(1601, false)).toBeLessThanOrEqual(binomialQuantile(RUNS, DEFAULT_JUDGE_CONFIG.alpha, 0.99));
  });

  it('rolls back far more than α of healthy canaries when users are pinned to a version (so the config refuses it)', () => {
    // Measured 133 of 300 (44%). A judge at α = 1% reaches 30 of 300 with probability < 1e-19.
    expect(count(1602, true)).toBeGreaterThanOrEqual(RUNS * 0.1);
  });
});
