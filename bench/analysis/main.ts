/**
 * `npm run bench:analysis`: the same seeded rollouts under Flagger's fixed thresholds, Aviary
 * (the product's own controller logic and judge, product-rollout.ts), an oracle SPRT that
 * knows both versions, and a conditional oracle that knows only the canary's effect; all on a
 * virtual clock at the product's cadence (the seed's interval 1m, the judge's defaults).
 * Prints a table, issue 12's targets and the median time to promote per traffic level; the
 * last line is one JSON object with everything.
 *
 * Options: `--healthy-seeds N` (default 2000) and `--seeds N` (default 200) rollouts per
 * healthy / other scenario and policy; `--quick` (200 and 50); `--workers N` (default 2
 * processes); `--only TEXT` (scenarios whose name contains it).
 */
import { DEFAULT_JUDGE_CONFIG } from '../../src/analysis/index.js';
import { ALPHA, planJobs } from './jobs.js';
import { runJobs } from './pool.js';
import { LEGEND, scenarioRows, tableHeader } from './report.js';
import { FIRST_CANARY_TRAFFIC_S, HORIZON_S, type RolloutResult } from './run-rollout.js';
import { SCENARIOS, SEED_SCHEDULE, type Scenario } from './scenarios.js';
import { summarise, type PolicyFigures } from './summary.js';
import { evaluateTargets, timeToPromote, type PolicyName, type ScenarioFigures } from './targets.js';

interface Options {
  readonly healthySeeds: number;
  readonly seeds: number;
  readonly workers: number;
  readonly only: string | undefined;
}

function parseOptions(argv: readonly string[]): Options {
  const value = (flag: string, fallback: number): number => {
    const at = argv.indexOf(flag);
    if (at === -1) return fallback;
    const n = Number(argv[at + 1]);
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`${flag}: expected a whole number >= 1, got ${JSON.stringify(argv[at + 1])}`);
    }
    return n;
  };
  const quick = argv.includes('--quick');
  const only = argv.indexOf('--only');
  return {
    healthySeeds: value('--healthy-seeds', quick ? 200 : 2000),
    seeds: value('--seeds', quick ? 50 : 200),
    workers: value('--workers', 2),
    only: only === -1 ? undefined : argv[only + 1],
  };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const started = performance.now();
  const indices = SCENARIOS.flatMap((s, i) =>
    options.only === undefined || s.name.includes(options.only) ? [i] : [],
  );
  const seedsFor = (s: Scenario): number => (s.regression ? options.seeds : options.healthySeeds);
  const jobs = planJobs(indices, seedsFor, 50);
  let lastReport = 0;
  const results = await runJobs(jobs, options.workers, (done, total) => {
    const now = performance.now();
    if (now - lastReport > 30_000) {
      lastReport = now;
      process.stderr.write(
        `bench:analysis ${done}/${total} jobs, ${((now - started) / 1000).toFixed(0)} s\n`,
      );
    }
  });
  const runs = new Map<string, RolloutResult[]>();
  jobs.forEach((job, i) => {
    const key = `${job.scenarioIndex}/${job.policy}`;
    runs.set(key, [...(runs.get(key) ?? []), ...results[i]!]);
  });
  const figures = new Map<string, ScenarioFigures>();
  const selected = indices.map((i) => SCENARIOS[i]!);
  console.log(
    `analysis bench: ${options.healthySeeds} seeds per healthy scenario, ${options.seeds} per other, per policy; ` +
      `interval ${SEED_SCHEDULE.intervalS}s, judge defaults (lookInterval ${DEFAULT_JUDGE_CONFIG.lookInterval} ms); ` +
      `times are medians from first canary traffic (${FIRST_CANARY_TRAFFIC_S} s after the start), horizon ${HORIZON_S} s`,
  );
  for (const line of tableHeader()) console.log(line);
  for (const index of indices) {
    const scenario = SCENARIOS[index]!;
    const cell = {} as Record<PolicyName, PolicyFigures>;
    for (const policy of ['flagger', 'aviary', 'oracle', 'conditionalOracle'] as const) {
      cell[policy] = summarise(runs.get(`${index}/${policy}`)!);
    }
    figures.set(scenario.name, cell);
    for (const line of scenarioRows(scenario, cell)) console.log(line);
  }
  console.log(`\n${LEGEND.join('\n')}`);
  const targets = evaluateTargets(selected, figures, ALPHA);
  console.log('\ntargets (at the product cadence):');
  for (const t of targets)
    console.log(`  ${t.pass ? 'PASS' : 'FAIL'}  ${t.target}  ${JSON.stringify(t.figures)}`);
  const promote = timeToPromote(selected, figures);
  console.log('\nmedian time to promote, healthy scenarios (the price of the guarantee):');
  for (const p of promote) {
    const shown = (s: number | null): string => (s === null ? 'never' : `${s}s`);
    console.log(
      `  ${String(p.rps).padStart(5)} rps  ${p.scenario.padEnd(30)} aviary ${shown(p.aviaryS).padStart(7)} ` +
        `(${(100 * p.aviaryPromoted).toFixed(1)}% promoted)   flagger ${shown(p.flaggerS)}`,
    );
  }
  const elapsedS = (performance.now() - started) / 1000;
  console.log(
    `\n${targets.filter((t) => t.pass).length}/${targets.length} targets met; ${elapsedS.toFixed(1)} s wall-clock`,
  );
  console.log(
    JSON.stringify({
      bench: 'analysis',
      seeds: { healthy: options.healthySeeds, other: options.seeds },
      alpha: ALPHA,
      product: { schedule: SEED_SCHEDULE, threshold: 5, judgeConfig: DEFAULT_JUDGE_CONFIG },
      scenarios: Object.fromEntries(
        selected.map((s) => [
          s.name,
          { rps: s.rps, regression: s.regression, group: s.group, ...figures.get(s.name) },
        ]),
      ),
      timeToPromote: promote,
      targets: { met: targets.filter((t) => t.pass).length, total: targets.length, results: targets },
      elapsedS: Math.round(elapsedS * 10) / 10,
    }),
  );
}

await main();
