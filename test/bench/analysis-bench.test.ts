/**
 * The analysis bench measures the shipped product: its Aviary rollouts go through the
 * product's own `step`, check scheduling and judge (bench/analysis/product-rollout.ts), so a
 * change to the product, or to one of its defaults, changes what the bench reports.
 */
import { describe, expect, it } from 'vitest';
import { runProductRollout } from '../../bench/analysis/product-rollout.js';
import { runRollout } from '../../bench/analysis/run-rollout.js';
import { ConditionalOraclePolicy } from '../../bench/analysis/policies/conditional-oracle-policy.js';
import { SCENARIOS, type Scenario } from '../../bench/analysis/scenarios.js';
import { upperBound95 } from '../../bench/analysis/summary.js';
import { step } from '../../src/rollout/step/step.js';
import type { RolloutStatus } from '../../src/rollout/step/rollout-status.js';

const scenario = (name: string): Scenario => SCENARIOS.find((s) => s.name === name)!;
const crash = scenario('crash (100% errors)');

describe('bench:analysis runs the product', () => {
  it("rolls a crashing canary back through the product's step and its RegressionDetected rollback", async () => {
    const phases: RolloutStatus['phase'][] = [];
    const spied: typeof step = (spec, status, observations, now) => {
      const result = step(spec, status, observations, now);
      phases.push(result.status.phase);
      return result;
    };
    const result = await runProductRollout(crash, 7, { step: spied });
    expect(result).toMatchObject({ outcome: 'rollback', cause: 'RegressionDetected' });
    // Initialised, started, one interval at weight 0 (60 ticks), then Failed within seconds.
    expect(phases.slice(0, 3)).toEqual(['Initializing', 'Initialized', 'Progressing']);
    expect(phases.at(-1)).toBe('Failed');
    expect(result.decisionS).toBeLessThanOrEqual(2);
    expect(result.excessFailures).toBeLessThanOrEqual(10);
  });

  it('reports what the injected state machine decides, not a policy of its own', async () => {
    // A state machine that never leaves Progressing: the bench cannot roll back without it.
    const stuck: typeof step = (spec, status, observations, now) => {
      const result = step(spec, status, observations, now);
      return result.status.phase === 'Failed' ? { status: status!, actions: [] } : result;
    };
    const result = await runProductRollout({ ...crash, rps: 5 }, 7, { step: stuck, maxTickMs: 60_000 });
    expect(result.outcome).toBe('undecided');
  });

  it("follows the product's judge settings: looks once a minute instead of every second roll back later", async () => {
    const plus5pp = scenario('+5pp errors');
    const times = async (analysis: Record<string, unknown>): Promise<number[]> => {
      const decided: number[] = [];
      for (let seed = 0; seed < 5; seed++)
        decided.push((await runProductRollout(plus5pp, seed, { analysis })).decisionS);
      return decided.sort((a, b) => a - b);
    };
    const everySecond = await times({ judge: {} });
    const everyMinute = await times({ judge: { lookInterval: '1m' } });
    // The first look comes one second into the canary's traffic, then one a minute (check ticks too).
    expect(everyMinute.every((s) => s <= 1 || s % 60 <= 1)).toBe(true);
    expect(everySecond.some((s) => s > 1 && s % 60 > 1)).toBe(true);
    expect(everyMinute[2]).toBeGreaterThan(everySecond[2]!);
  });

  it("follows the product's analysis interval: the first step comes one interval after the start", async () => {
    const firstTraffic = async (interval: string): Promise<number | undefined> => {
      let at: number | undefined;
      const spied: typeof step = (spec, status, observations, now) => {
        const result = step(spec, status, observations, now);
        at ??= result.status.canaryWeight > 0 ? (now - 1_700_000_000_000) / 1000 : undefined;
        return result;
      };
      await runProductRollout(crash, 3, { step: spied, analysis: { interval } });
      return at;
    };
    expect(await firstTraffic('1m')).toBe(60);
    expect(await firstTraffic('10s')).toBe(10);
  });
});

describe('bench:analysis statistics', () => {
  it('gives the exact one-sided 95% Clopper-Pearson bound', () => {
    // k = 0: (1 − p)^n = 0.05.
    expect(upperBound95(0, 2000)).toBeCloseTo(1 - Math.pow(0.05, 1 / 2000), 6);
    // k = 20 of 2,000 (1%): P(Binomial(2000, p) <= 20) = 0.05 at p = 0.014498 (computed apart).
    expect(upperBound95(20, 2000)).toBeCloseTo(0.014498, 5);
  });

  it('the conditional oracle never rolls back a canary whose effect is zero, even in a shared incident', () => {
    const incident = scenario('shared incident');
    for (let seed = 0; seed < 20; seed++) {
      const result = runRollout(incident, new ConditionalOraclePolicy(0.01, incident.schedule), seed);
      expect(result.outcome).toBe('promote');
    }
  });
});

describe('bench:analysis configures the product as its user would', () => {
  it("reports the sticky-session scenario as refused by the product's config check", async () => {
    const result = await runProductRollout(scenario('sticky heterogeneous users'), 1);
    expect(result.outcome).toBe('refused');
    expect(result.cause).toMatch(/sessionAffinity/);
  });
});
