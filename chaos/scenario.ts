/**
 * What a chaos scenario is to the runner: a name, how many runs the report needs, and one
 * run, which drives the shipped product through a {@link RunContext} and records checks and
 * figures there. A run passes when every check held and it ended within its time bound.
 */
import type { RunScope } from './run-scope.js';
import type { SeededRandom } from './seeded-random.js';

/** One measured value of a run (requests failed, ms to resume, offsets tried...). */
export type Figures = Record<string, number>;

/** What one run is given. */
export interface RunContext {
  /** This run's generator (see {@link SeededRandom.forRun}). */
  readonly random: SeededRandom;
  /** Processes, temporary directories and cleanups of this run; all undone when it ends. */
  readonly scope: RunScope;
  /** Aborted when the run exceeds its time bound. */
  readonly signal: AbortSignal;
  /**
   * Faults asked for with `--inject` (a seam of the runner, used by its own test to prove
   * that a violated check fails the scenario). A scenario honours the names it documents.
   */
  readonly inject: ReadonlySet<string>;
  /**
   * A smaller run for CI (`--quick`): a scenario may do less work per run (fewer changes,
   * fewer connections) but checks the same things. Never used for the report.
   */
  readonly quick: boolean;
  /** Records a check: the run fails when `ok` is false; `detail` says what was seen. */
  check(what: string, ok: boolean, detail?: string): void;
  /** Records (adds to) a figure of this run. */
  figure(name: string, value: number): void;
  /** A progress line (shown with --verbose). */
  log(text: string): void;
}

/** One chaos scenario of issue 16, §1. */
export interface Scenario {
  /** Kebab-case name, as `--only` takes it. */
  readonly name: string;
  /** One line for the report: what is done and what must hold. */
  readonly summary: string;
  /** Runs of `npm run chaos` and of the report when `--runs` is not given. */
  readonly defaultRuns: number;
  /** Bound of one run, ms; the run fails and its processes are killed after it. */
  readonly runTimeoutMs: number;
  /** Faults this scenario honours under `--inject`, each with what it must make fail. */
  readonly injections?: Readonly<Record<string, string>>;
  run(context: RunContext): Promise<void>;
  /**
   * Why the scenario cannot run on this machine (mounting not permitted, say), as the exact
   * error; undefined when it can. The vitest case skips with it; the runner runs anyway, so
   * its run fails with that error.
   */
  unavailable?(): Promise<string | undefined>;
  /** The key figure of the report over all runs (e.g. "0 of 12,034 requests failed"). */
  keyFigure(runs: readonly RunResult[]): string;
}

/** One run as the report sees it. */
export interface RunResult {
  readonly run: number;
  readonly passed: boolean;
  /** Checks that did not hold, and an error that ended the run early. */
  readonly violations: readonly string[];
  readonly figures: Figures;
  readonly durationMs: number;
}

/** Every run of one scenario. */
export interface ScenarioResult {
  readonly name: string;
  readonly summary: string;
  readonly runs: readonly RunResult[];
  readonly passes: number;
  readonly keyFigure: string;
}

/** Sum of `name` over `runs`. */
export function total(runs: readonly RunResult[], name: string): number {
  return runs.reduce((sum, run) => sum + (run.figures[name] ?? 0), 0);
}

/** The values of `name` over the runs that have it. */
export function valuesOf(runs: readonly RunResult[], name: string): number[] {
  return runs.map((run) => run.figures[name]).filter((v): v is number => v !== undefined);
}

/** "1.5 s" for 1,500 ms; "n/a" when there is no figure (NaN). */
export function seconds(ms: number): string {
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : 'n/a';
}

/** "p50 1.5 s, max 2.5 s": the spread of the millisecond figure `name` over `runs`. */
export function secondsSpread(runs: readonly RunResult[], name: string): string {
  const values = valuesOf(runs, name);
  return `p50 ${seconds(percentile(values, 50))}, max ${seconds(percentile(values, 100))}`;
}

/** "0 of 12034 requests failed", from the runs' `failedRequests` and `requests` figures. */
export function requestsFailed(runs: readonly RunResult[]): string {
  return `${total(runs, 'failedRequests')} of ${total(runs, 'requests')} requests failed`;
}

/** Nearest-rank percentile of `values` (p in 0..100); NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
