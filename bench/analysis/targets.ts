/**
 * Issue 12's targets for the analysis bench, all at the product's cadence, each evaluated to
 * pass/fail with the figures it rests on. A target whose figure or reference is missing (a
 * median that is "never" because fewer than half the runs got there) fails: nothing passes
 * for want of a reference, and nothing here adjusts a scenario.
 */
import type { Scenario } from './scenarios.js';
import type { PolicyFigures } from './summary.js';

/** The policies every scenario is played under. */
export const POLICY_NAMES = ['flagger', 'aviary', 'oracle', 'conditionalOracle'] as const;
/** One of {@link POLICY_NAMES}. */
export type PolicyName = (typeof POLICY_NAMES)[number];

/** Figures of every policy for one scenario. */
export type ScenarioFigures = Readonly<Record<PolicyName, PolicyFigures>>;

/** One checked target. */
export interface TargetResult {
  readonly target: string;
  readonly pass: boolean;
  readonly figures: Readonly<Record<string, unknown>>;
}

/** `value ≤ limit`, false when either is missing. */
const atMost = (value: number | null, limit: number | null): boolean =>
  value !== null && limit !== null && value <= limit;

/** Evaluates every target; `alpha` is the judge's total α. */
export function evaluateTargets(
  scenarios: readonly Scenario[],
  figures: ReadonlyMap<string, ScenarioFigures>,
  alpha: number,
): TargetResult[] {
  const of = (name: string): ScenarioFigures => figures.get(name)!;
  const results: TargetResult[] = [];
  const each = (
    keep: (s: Scenario) => boolean,
    check: (s: Scenario, f: ScenarioFigures) => TargetResult,
  ): void => {
    for (const s of scenarios.filter((x) => keep(x) && figures.has(x.name)))
      results.push(check(s, of(s.name)));
  };
  each(
    (s) => s.group === 'crash',
    (s, { aviary, flagger }) => ({
      target: `${s.name}: median rollback <= 2 s and <= 10 excess failed requests`,
      pass: atMost(aviary.medianRollbackS, 2) && aviary.medianExcessFailures <= 10,
      figures: {
        aviaryS: aviary.medianRollbackS,
        aviaryFailed: aviary.medianExcessFailures,
        flaggerS: flagger.medianRollbackS,
        flaggerFailed: flagger.medianExcessFailures,
      },
    }),
  );
  each(
    (s) => s.group === 'errors+5pp' || (s.group === 'errors+1pp' && s.rps >= 50),
    (s, { aviary, conditionalOracle, oracle }) => {
      const limit = conditionalOracle.medianRollbackS === null ? null : 2 * conditionalOracle.medianRollbackS;
      return {
        target: `${s.name}: median rollback <= 2x the conditional oracle's`,
        pass: atMost(aviary.medianRollbackS, limit),
        figures: {
          aviaryS: aviary.medianRollbackS,
          conditionalOracleS: conditionalOracle.medianRollbackS,
          limitS: limit,
          oracleS: oracle.medianRollbackS,
        },
      };
    },
  );
  each(
    (s) => s.group === 'errors+1pp' && s.rps < 50,
    (s, { aviary, flagger }) => {
      const detection = aviary.rollbackRate >= flagger.rollbackRate;
      const time = atMost(aviary.medianRollbackS, flagger.medianRollbackS);
      const failed = aviary.medianExcessFailures <= flagger.medianExcessFailures;
      return {
        target: `${s.name}: detection >= Flagger's; median rollback time and failed requests no worse`,
        pass: detection && time && failed,
        figures: {
          detection: { aviary: aviary.rollbackRate, flagger: flagger.rollbackRate, pass: detection },
          medianRollbackS: { aviary: aviary.medianRollbackS, flagger: flagger.medianRollbackS, pass: time },
          failed: {
            aviary: aviary.medianExcessFailures,
            flagger: flagger.medianExcessFailures,
            pass: failed,
          },
        },
      };
    },
  );
  each(
    (s) => s.group === 'latency',
    (s, { aviary, flagger }) => ({
      target: `${s.name}: detected in >= 95% of runs, median rollback <= 60 s`,
      pass: aviary.rollbackRate >= 0.95 && atMost(aviary.medianRollbackS, 60),
      figures: {
        aviary: aviary.rollbackRate,
        aviaryS: aviary.medianRollbackS,
        flagger: flagger.rollbackRate,
      },
    }),
  );
  each(
    (s) => s.group === 'stalls',
    (s, { aviary, flagger }) => ({
      target: `${s.name}: detected in >= 90% of runs within the rollout`,
      pass: aviary.rollbackRate >= 0.9,
      figures: {
        aviary: aviary.rollbackRate,
        aviaryS: aviary.medianRollbackS,
        flagger: flagger.rollbackRate,
      },
    }),
  );
  each(
    (s) => !s.regression,
    (s, { aviary, flagger }) => {
      // A configuration the product refuses cannot roll back anything (issue 12: "<= alpha,
      // or the configuration is refused"); every other rollback of a healthy canary counts,
      // whatever its cause, with the judge's own share beside it.
      const refused = aviary.refusedRate === 1;
      return {
        target: `${s.name}: false rollbacks <= alpha ${alpha} (or refused; 95% upper bound reported)`,
        pass: refused || aviary.rollbackRate <= alpha,
        figures: {
          aviary: aviary.rollbackRate,
          aviaryUpper95: aviary.rollbackUpper95,
          judgeOnly: aviary.judgeRollbackRate,
          judgeOnlyUpper95: aviary.judgeRollbackUpper95,
          runs: aviary.runs,
          causes: aviary.rollbackCauses,
          ...(refused ? { refused: aviary.refusal } : {}),
          flagger: flagger.rollbackRate,
        },
      };
    },
  );
  each(
    (s) => s.group === 'harm',
    (s, { aviary, flagger }) => ({
      target: `${s.name}: promotions <= alpha ${alpha} (95% upper bound reported)`,
      pass: aviary.promoteRate <= alpha,
      figures: {
        aviary: aviary.promoteRate,
        aviaryUpper95: aviary.promoteUpper95,
        runs: aviary.runs,
        rolledBack: aviary.rollbackRate,
        undecided: aviary.undecidedRate,
        flagger: flagger.promoteRate,
      },
    }),
  );
  return results;
}

/** Median time to promote of each healthy scenario, by traffic level: the price of the guarantee. */
export function timeToPromote(
  scenarios: readonly Scenario[],
  figures: ReadonlyMap<string, ScenarioFigures>,
): {
  scenario: string;
  rps: number;
  aviaryS: number | null;
  aviaryPromoted: number;
  flaggerS: number | null;
}[] {
  return scenarios
    .filter((s) => !s.regression && figures.has(s.name))
    .sort((a, b) => b.rps - a.rps)
    .map((s) => {
      const { aviary, flagger } = figures.get(s.name)!;
      return {
        scenario: s.name,
        rps: s.rps,
        aviaryS: aviary.medianPromoteS,
        aviaryPromoted: aviary.promoteRate,
        flaggerS: flagger.medianPromoteS,
      };
    });
}
