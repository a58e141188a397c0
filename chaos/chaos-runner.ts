/**
 * Runs chaos scenarios: each one `runs` times, one run at a time (the machine has two shared
 * cores), each run bounded in time and undone when it ends (see {@link RunScope}). A run
 * fails when a check did not hold, when it threw, when it passed its time bound, or when a
 * process it started was still alive after its cleanups.
 */
import { RunScope } from './run-scope.js';
import type { Figures, RunContext, RunResult, Scenario, ScenarioResult } from './scenario.js';
import { SeededRandom } from './seeded-random.js';

/** Options of {@link runChaos}. */
export interface ChaosOptions {
  readonly scenarios: readonly Scenario[];
  readonly seed: number;
  /** Runs per scenario; default each scenario's `defaultRuns`. */
  readonly runs?: number;
  /** Fault names passed to the scenarios (see {@link RunContext.inject}). */
  readonly inject?: readonly string[];
  /** See {@link RunContext.quick}; default false. */
  readonly quick?: boolean;
  /** Where progress lines go; default nowhere. */
  readonly log?: (line: string) => void;
  /** Aborts the runs left (the current run is ended as timed out). */
  readonly signal?: AbortSignal;
}

/** Runs every scenario and answers one result per scenario, in order. */
export async function runChaos(options: ChaosOptions): Promise<ScenarioResult[]> {
  const log = options.log ?? (() => undefined);
  const results: ScenarioResult[] = [];
  for (const scenario of options.scenarios) {
    const runs: RunResult[] = [];
    const count = options.runs ?? scenario.defaultRuns;
    for (let run = 1; run <= count && !options.signal?.aborted; run++) {
      const result = await runOnce(scenario, run, options);
      runs.push(result);
      log(
        `chaos: ${scenario.name} run ${run}/${count} ${result.passed ? 'passed' : 'FAILED'} in ${(result.durationMs / 1000).toFixed(1)} s` +
          (result.passed ? '' : `\n  ${result.violations.join('\n  ')}`),
      );
    }
    results.push({
      name: scenario.name,
      summary: scenario.summary,
      runs,
      passes: runs.filter((r) => r.passed).length,
      keyFigure: scenario.keyFigure(runs),
    });
  }
  return results;
}

async function runOnce(scenario: Scenario, run: number, options: ChaosOptions): Promise<RunResult> {
  const started = performance.now();
  const scope = new RunScope();
  const violations: string[] = [];
  const figures: Figures = {};
  const timeout = new AbortController();
  const signal = options.signal ? AbortSignal.any([timeout.signal, options.signal]) : timeout.signal;
  const context: RunContext = {
    random: SeededRandom.forRun(options.seed, scenario.name, run),
    scope,
    signal,
    inject: new Set(options.inject ?? []),
    quick: options.quick ?? false,
    check(what, ok, detail) {
      if (!ok) violations.push(detail === undefined ? what : `${what}: ${detail}`);
    },
    figure(name, value) {
      figures[name] = (figures[name] ?? 0) + value;
    },
    log: (text) => options.log?.(`chaos: ${scenario.name} run ${run}: ${text}`),
  };
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), scenario.runTimeoutMs);
    signal.addEventListener('abort', () => resolve('timeout'), { once: true });
  });
  try {
    const outcome = await Promise.race([scenario.run(context).then(() => 'done' as const), timedOut]);
    if (outcome === 'timeout') violations.push(`did not finish within ${scenario.runTimeoutMs} ms`);
  } catch (error) {
    violations.push(`error: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    clearTimeout(timer);
    timeout.abort();
  }
  const ended = violations.length === 0;
  const { leftBehind, errors } = await scope.close();
  // After a failure the scenario could not stop its processes itself: those are not orphans of Aviary.
  if (ended && leftBehind.length > 0)
    violations.push(`processes left behind after the run: ${leftBehind.join(', ')}`);
  for (const error of errors)
    violations.push(`cleanup: ${error instanceof Error ? error.message : String(error)}`);
  return {
    run,
    passed: violations.length === 0,
    violations,
    figures,
    durationMs: performance.now() - started,
  };
}
