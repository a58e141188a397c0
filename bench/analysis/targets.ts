/**
 * Issue 5's targets for the analysis bench, each evaluated to pass/fail with the figures it
 * rests on. Nothing here adjusts a scenario: a target that is missed is reported as missed.
 */
import type { Scenario } from './scenarios.js';
import type { PolicyFigures } from './summary.js';
import { upperBound95 } from './summary.js';

/** Figures of every policy for one scenario. */
export type ScenarioFigures = Readonly<Record<'flagger' | 'aviary' | 'oracle', PolicyFigures>>;

/** One checked target. */
export interface TargetResult {
  readonly target: string;
  readonly pass: boolean;
  readonly figures: Readonly<Record<string, unknown>>;
}

const atMost = (value: number | null, limit: number | null): boolean =>
  value !== null && (limit === null || value <= limit);

/** Evaluates every target; `alpha` is the judge's total α. */
export function evaluateTargets(
  scenarios: readonly Scenario[],
  figures: ReadonlyMap<string, ScenarioFigures>,
  alpha: number,
): TargetResult[] {
  const of = (name: string): ScenarioFigures => figures.get(name)!;
  const results: TargetResult[] = [];
  for (const s of scenarios.filter((x) => x.regression)) {
    const { aviary, oracle } = of(s.name);
    const limit = oracle.medianRollbackS === null ? null : 2 * oracle.medianRollbackS;
    results.push({
      target: `${s.name}: Aviary median time to rollback <= 2x oracle's`,
      pass: atMost(aviary.medianRollbackS, limit),
      figures: { aviaryS: aviary.medianRollbackS, oracleS: oracle.medianRollbackS, limitS: limit },
    });
  }
  for (const s of scenarios.filter((x) => x.group === 'errors+5pp' || x.group === 'crash')) {
    const { aviary, flagger } = of(s.name);
    const timeLimit = flagger.medianRollbackS === null ? null : flagger.medianRollbackS / 5;
    const failLimit = flagger.medianExcessFailures / 5;
    results.push({
      target: `${s.name}: Aviary median time to rollback and failed requests each <= 1/5 of Flagger's`,
      pass: atMost(aviary.medianRollbackS, timeLimit) && aviary.medianExcessFailures <= failLimit,
      figures: {
        aviaryS: aviary.medianRollbackS,
        flaggerS: flagger.medianRollbackS,
        aviaryFailed: aviary.medianExcessFailures,
        flaggerFailed: flagger.medianExcessFailures,
      },
    });
  }
  for (const s of scenarios.filter((x) => x.group === 'errors+1pp')) {
    const { aviary, flagger } = of(s.name);
    const detection = aviary.rollbackRate >= flagger.rollbackRate;
    const time = atMost(aviary.medianRollbackS, flagger.medianRollbackS);
    const failed = aviary.medianExcessFailures <= flagger.medianExcessFailures;
    results.push({
      target: `${s.name}: never worse than Flagger (detection, median time to rollback, failed requests)`,
      pass: detection && time && failed,
      figures: {
        detection: { aviary: aviary.rollbackRate, flagger: flagger.rollbackRate, pass: detection },
        medianRollbackS: { aviary: aviary.medianRollbackS, flagger: flagger.medianRollbackS, pass: time },
        failed: { aviary: aviary.medianExcessFailures, flagger: flagger.medianExcessFailures, pass: failed },
      },
    });
  }
  for (const s of scenarios.filter((x) => x.group === 'latency')) {
    const { aviary, flagger } = of(s.name);
    results.push({
      target: `${s.name}: detected in >= 95% of runs (Flagger's beside)`,
      pass: aviary.rollbackRate >= 0.95,
      figures: { aviary: aviary.rollbackRate, flagger: flagger.rollbackRate },
    });
  }
  for (const s of scenarios.filter((x) => !x.regression)) {
    const { aviary, flagger } = of(s.name);
    const k = Math.round(aviary.rollbackRate * aviary.runs);
    results.push({
      target: `${s.name}: false rollbacks <= alpha ${alpha} (Flagger's beside)`,
      pass: aviary.rollbackRate <= alpha,
      figures: {
        aviary: aviary.rollbackRate,
        aviaryUpper95: round(upperBound95(k, aviary.runs)),
        flagger: flagger.rollbackRate,
      },
    });
  }
  for (const s of scenarios.filter((x) => x.group === 'errors+1pp' && x.rps >= 50)) {
    const { aviary } = of(s.name);
    results.push({
      target: `${s.name}: detection >= 99% within the rollout`,
      pass: aviary.rollbackRate >= 0.99,
      figures: { aviary: aviary.rollbackRate, medianDecisionS: aviary.medianDecisionS },
    });
  }
  return results;
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}
