/**
 * The bench's printed table: one row per scenario and policy, with the ratios that matter for
 * a regression (against the conditional oracle and against Flagger).
 */
import type { Scenario } from './scenarios.js';
import type { PolicyFigures } from './summary.js';
import { POLICY_NAMES, type ScenarioFigures } from './targets.js';

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const secs = (x: number | null): string => (x === null ? 'never' : `${x}s`);
/** a/b, or a dash where it means nothing (no figure, or a baseline of no excess failures). */
const ratio = (a: number | null, b: number | null): string =>
  a === null || b === null || b <= 0 ? '—' : `${(a / b).toFixed(2)}x`;

/** Column widths: two left-aligned names, then right-aligned figures. */
const COLUMNS = [28, 19, 6, 9, 9, 9, 10, 10, 9, 10, 10] as const;

function row(cells: readonly string[]): string {
  return cells.map((cell, i) => (i < 2 ? cell.padEnd(COLUMNS[i]!) : cell.padStart(COLUMNS[i]!))).join('');
}

const LABELS = {
  flagger: 'flagger',
  aviary: 'aviary (product)',
  oracle: 'oracle',
  conditionalOracle: 'cond. oracle',
};

/** The header line and its rule. */
export function tableHeader(): string[] {
  const header = row([
    'scenario',
    'policy',
    'runs',
    'rollback',
    'ub95',
    'promote',
    'rollback',
    'promote',
    'failed',
    'vs cond.',
    'vs flagger',
  ]);
  return [header, '-'.repeat(header.length)];
}

/** The rows of one scenario. */
export function scenarioRows(scenario: Scenario, cell: ScenarioFigures): string[] {
  return POLICY_NAMES.map((name) => {
    const f: PolicyFigures = cell[name];
    // Ratios only mean something where there is a regression to roll back.
    const r = scenario.regression ? ratio : (): string => '—';
    if (f.refusedRate === 1) {
      return `${row([scenario.name, LABELS[name], String(f.runs)])}  refused by the product's config check`;
    }
    return row([
      scenario.name,
      LABELS[name],
      String(f.runs),
      pct(f.rollbackRate),
      pct(f.rollbackUpper95),
      pct(f.promoteRate),
      secs(f.medianRollbackS),
      secs(f.medianPromoteS),
      f.medianExcessFailures.toFixed(1),
      r(f.medianRollbackS, cell.conditionalOracle.medianRollbackS),
      r(f.medianRollbackS, cell.flagger.medianRollbackS),
    ]);
  });
}

/** What the columns mean. */
export const LEGEND = [
  'columns: rollback = share of runs rolled back (detection, or false rollbacks when healthy); ub95 = its',
  'one-sided 95% Clopper-Pearson upper bound; promote = share promoted; rollback/promote (2nd) = median',
  'seconds from first canary traffic ("never" when fewer than half got there); failed = median canary',
  "failures above the primary's error rate; ratios compare median rollback times.",
];
