/**
 * `npm run bench:analysis`: the same seeded rollouts under Flagger's fixed thresholds, Aviary's
 * sequential judge and an oracle SPRT, on a virtual clock (seconds of CPU, not hours). Prints a
 * table, the ratios and each issue-5 target; the last line is one JSON object with everything.
 *
 * Options: `--seeds N` (default 200) rollouts per scenario and policy.
 */
import { DEFAULT_JUDGE_CONFIG } from '../../src/analysis/index.js';
import { AviaryPolicy } from './policies/aviary-policy.js';
import { FlaggerPolicy } from './policies/flagger-policy.js';
import { OraclePolicy } from './policies/oracle-policy.js';
import { SCHEDULE, type RolloutPolicy } from './policies/policy.js';
import { seedOf } from './random.js';
import { FIRST_CANARY_TRAFFIC_S, runRollout, type RolloutResult } from './run-rollout.js';
import { SCENARIOS } from './scenarios.js';
import { summarise, type PolicyFigures } from './summary.js';
import { evaluateTargets, type ScenarioFigures } from './targets.js';

const POLICIES = {
  flagger: (): RolloutPolicy => new FlaggerPolicy(FIRST_CANARY_TRAFFIC_S + SCHEDULE.intervalS),
  aviary: (): RolloutPolicy => new AviaryPolicy(DEFAULT_JUDGE_CONFIG),
  oracle: (): RolloutPolicy => new OraclePolicy(DEFAULT_JUDGE_CONFIG.alpha),
} as const;
type PolicyName = keyof typeof POLICIES;
const POLICY_NAMES = Object.keys(POLICIES) as PolicyName[];

function parseSeeds(argv: readonly string[]): number {
  const at = argv.indexOf('--seeds');
  if (at === -1) return 200;
  const value = Number(argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`--seeds: expected a whole number >= 1, got ${JSON.stringify(argv[at + 1])}`);
  }
  return value;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const secs = (x: number | null): string => (x === null ? 'never' : `${x}s`);
/** a/b, or a dash where it means nothing (no figure, or a baseline of no excess failures). */
const ratio = (a: number | null, b: number | null): string =>
  a === null || b === null || b <= 0 ? '—' : `${(a / b).toFixed(2)}x`;

/** Column widths of the table: two left-aligned names, then right-aligned figures. */
const COLUMNS = [26, 9, 9, 10, 10, 9, 11, 12, 15] as const;

function row(cells: readonly string[]): string {
  return cells.map((cell, i) => (i < 2 ? cell.padEnd(COLUMNS[i]!) : cell.padStart(COLUMNS[i]!))).join('');
}

function main(): void {
  const seeds = parseSeeds(process.argv.slice(2));
  const started = performance.now();
  const figures = new Map<string, ScenarioFigures>();
  const header = row([
    'scenario',
    'policy',
    'rollback',
    'decision',
    'rollback',
    'failed',
    'vs oracle',
    'vs flagger',
    'failed vs fl.',
  ]);
  console.log(
    `analysis bench: ${seeds} seeds per scenario and policy; times are medians from first canary traffic`,
  );
  console.log(header);
  console.log('-'.repeat(header.length));
  SCENARIOS.forEach((scenario, scenarioIndex) => {
    const cell = {} as Record<PolicyName, PolicyFigures>;
    for (const name of POLICY_NAMES) {
      const results: RolloutResult[] = [];
      for (let seed = 0; seed < seeds; seed++) {
        // The same seed for every policy: identical requests until their weights diverge.
        results.push(runRollout(scenario, POLICIES[name](), seedOf(scenarioIndex, seed)));
      }
      cell[name] = summarise(results);
    }
    figures.set(scenario.name, cell);
    for (const name of POLICY_NAMES) {
      const f = cell[name];
      // Ratios only mean something where there is a regression to roll back.
      const r = scenario.regression ? ratio : (): string => '—';
      console.log(
        row([
          scenario.name,
          name,
          pct(f.rollbackRate),
          secs(f.medianDecisionS),
          secs(f.medianRollbackS),
          f.medianExcessFailures.toFixed(1),
          r(f.medianRollbackS, cell.oracle.medianRollbackS),
          r(f.medianRollbackS, cell.flagger.medianRollbackS),
          r(f.medianExcessFailures, cell.flagger.medianExcessFailures),
        ]),
      );
    }
  });
  const targets = evaluateTargets(SCENARIOS, figures, DEFAULT_JUDGE_CONFIG.alpha);
  console.log(
    '\ncolumns: rollback = share of runs rolled back (detection, or false rollbacks when healthy);',
  );
  console.log(
    'decision/rollback = median seconds to any decision / to rollback ("never" when < half rolled back);',
  );
  console.log(
    "failed = median canary failures above the primary's error rate; ratios compare median rollback times.",
  );
  console.log('\ntargets:');
  for (const t of targets)
    console.log(`  ${t.pass ? 'PASS' : 'FAIL'}  ${t.target}  ${JSON.stringify(t.figures)}`);
  const elapsedS = (performance.now() - started) / 1000;
  console.log(
    `\n${targets.filter((t) => t.pass).length}/${targets.length} targets met; ${elapsedS.toFixed(1)} s wall-clock`,
  );
  console.log(
    JSON.stringify({
      bench: 'analysis',
      seeds,
      alpha: DEFAULT_JUDGE_CONFIG.alpha,
      judgeConfig: DEFAULT_JUDGE_CONFIG,
      scenarios: Object.fromEntries(
        SCENARIOS.map((s) => [s.name, { rps: s.rps, regression: s.regression, ...figures.get(s.name) }]),
      ),
      targets: {
        met: targets.filter((t) => t.pass).length,
        total: targets.length,
        results: targets,
      },
      elapsedS: Math.round(elapsedS * 10) / 10,
    }),
  );
}

main();
