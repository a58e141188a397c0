/**
 * The bench's unit of work: a range of seeds of one scenario under one policy. Flagger and
 * the oracles are simulated policies (run-rollout.ts); Aviary is the product's controller
 * logic (product-rollout.ts). Every policy gets the same seed for the same run, so the same
 * traffic until their canary weights differ.
 */
import { DEFAULT_JUDGE_CONFIG } from '../../src/analysis/index.js';
import { ConditionalOraclePolicy } from './policies/conditional-oracle-policy.js';
import { FlaggerPolicy } from './policies/flagger-policy.js';
import { OraclePolicy } from './policies/oracle-policy.js';
import type { RolloutPolicy } from './policies/policy.js';
import { runProductRollout, type ProductOverrides } from './product-rollout.js';
import { seedOf } from './random.js';
import { FIRST_CANARY_TRAFFIC_S, runRollout, type RolloutResult } from './run-rollout.js';
import { SCENARIOS, type Scenario } from './scenarios.js';
import type { PolicyName } from './targets.js';

/** Seeds `fromSeed` (inclusive) to `toSeed` (exclusive) of one scenario and policy. */
export interface Job {
  readonly scenarioIndex: number;
  readonly policy: PolicyName;
  readonly fromSeed: number;
  readonly toSeed: number;
}

/** The judge's total α (the product default): both oracles test at the same level. */
export const ALPHA = DEFAULT_JUDGE_CONFIG.alpha;

function simulatedPolicy(name: Exclude<PolicyName, 'aviary'>, scenario: Scenario): RolloutPolicy {
  switch (name) {
    case 'flagger':
      return new FlaggerPolicy(FIRST_CANARY_TRAFFIC_S + scenario.schedule.intervalS, scenario.schedule);
    case 'oracle':
      return new OraclePolicy(ALPHA, scenario.schedule);
    case 'conditionalOracle':
      return new ConditionalOraclePolicy(ALPHA, scenario.schedule);
  }
}

/** One rollout of `scenario` (index `scenarioIndex` in SCENARIOS) under `policy`. */
export function runOne(
  scenarioIndex: number,
  policy: PolicyName,
  seed: number,
  overrides?: ProductOverrides,
): Promise<RolloutResult> {
  const scenario = SCENARIOS[scenarioIndex]!;
  const mixed = seedOf(scenarioIndex, seed);
  if (policy === 'aviary') return runProductRollout(scenario, mixed, overrides);
  return Promise.resolve(runRollout(scenario, simulatedPolicy(policy, scenario), mixed));
}

/** Runs a job's seeds in order. */
export async function runJob(job: Job): Promise<RolloutResult[]> {
  const results: RolloutResult[] = [];
  for (let seed = job.fromSeed; seed < job.toSeed; seed++) {
    results.push(await runOne(job.scenarioIndex, job.policy, seed));
  }
  return results;
}

/** Every job of a run: `seedsFor(scenario)` seeds per scenario and policy, in chunks. */
export function planJobs(
  indices: readonly number[],
  seedsFor: (s: Scenario) => number,
  chunk: number,
): Job[] {
  const jobs: Job[] = [];
  for (const scenarioIndex of indices) {
    const seeds = seedsFor(SCENARIOS[scenarioIndex]!);
    for (const policy of ['aviary', 'flagger', 'oracle', 'conditionalOracle'] as const) {
      // Aviary's runs cost far more than the simulated policies': smaller chunks balance the workers.
      const size = policy === 'aviary' ? chunk : seeds;
      for (let from = 0; from < seeds; from += size) {
        jobs.push({ scenarioIndex, policy, fromSeed: from, toSeed: Math.min(seeds, from + size) });
      }
    }
  }
  return jobs;
}
