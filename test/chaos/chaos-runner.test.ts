/**
 * The chaos runner of issue 16 (`npm run chaos`) at N = 1: every scenario runs once against
 * the built product and must pass, and each fault the runner can inject makes its scenario
 * fail, so the checks can fail. Also the runner's own pure parts: options, seeds, report.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { readChaosOptions } from '../../chaos/chaos-options.js';
import { formatTable, reliabilityMarkdown, summaryOf } from '../../chaos/chaos-report.js';
import { runChaos } from '../../chaos/chaos-runner.js';
import { ALL_SCENARIOS, scenariosNamed } from '../../chaos/scenarios/all-scenarios.js';
import { OPERATOR_SCENARIOS } from '../../chaos/scenarios/operator-faults.js';
import type { ScenarioResult } from '../../chaos/scenario.js';
import { RUN_MARKER } from '../../chaos/run-scope.js';
import { SeededRandom } from '../../chaos/seeded-random.js';
import { readProcessEnvironment } from '../../src/target/process/process-group.js';
import { ensureBuilt, REPO_ROOT } from '../cli/cli-support.js';
import { markedProcesses } from '../support/marked-processes.js';
import { pollFor } from '../support/poll.js';

beforeAll(async () => {
  await ensureBuilt();
}, 240_000);

/** The violations of every failed run, for a readable failure. */
const violations = (results: readonly ScenarioResult[]) =>
  results.flatMap((r) =>
    r.runs.filter((run) => !run.passed).map((run) => `${r.name}: ${run.violations.join('; ')}`),
  );

/** The scenarios on one machine; the operator's run in the kubernetes project (test/kubernetes/operator-chaos.test.ts). */
const LOCAL_SCENARIOS = ALL_SCENARIOS.filter((scenario) => !OPERATOR_SCENARIOS.includes(scenario));

describe('npm run chaos', () => {
  for (const scenario of LOCAL_SCENARIOS) {
    it(`${scenario.name} passes once`, { timeout: scenario.runTimeoutMs + 30_000 }, async (context) => {
      const refusal = await scenario.unavailable?.();
      if (refusal !== undefined) return context.skip(refusal);
      const results = await runChaos({ scenarios: [scenario], seed: 16, runs: 1, quick: true });
      expect(violations(results)).toEqual([]);
      expect(results[0]!.passes).toBe(1);
    });
  }

  /** The check each fault must break. */
  const broken: Record<string, RegExp> = {
    'orphan-replica': /leaves nothing behind|left behind/,
    'cut-complete-line': /every cut reads all complete state/,
    'glue-torn-line': /no journal has a corrupt line/,
    'ignore-query-errors': /query failures are failed checks/,
    'no-request-timeout': /no client request waits longer than the request timeout/,
    'restart-across-jump': /no rollback or promotion caused by the jump/,
    'admission-off': /some flood answers are 429 or 503/,
  };
  // Each fault once, on the first scenario that honours it.
  const faults = new Map<string, { scenario: (typeof ALL_SCENARIOS)[number]; what: string }>();
  for (const scenario of LOCAL_SCENARIOS)
    for (const [fault, what] of Object.entries(scenario.injections ?? {}))
      if (!faults.has(fault)) faults.set(fault, { scenario, what });
  for (const [fault, { scenario, what }] of faults) {
    it(
      `${scenario.name} fails with the injected fault ${fault} (${what})`,
      { timeout: scenario.runTimeoutMs + 30_000 },
      async (context) => {
        const refusal = await scenario.unavailable?.();
        if (refusal !== undefined) return context.skip(refusal);
        const results = await runChaos({
          scenarios: [scenario],
          seed: 16,
          runs: 1,
          quick: true,
          inject: [fault],
        });
        expect(results[0]!.passes).toBe(0);
        expect(violations(results).join('\n')).toMatch(
          broken[fault] ?? /a pattern for this fault in the test/,
        );
        expect(summaryOf(results, 16).passed).toBe(false);
      },
    );
  }
});

describe('the chaos runner', () => {
  /** The run markers of the live processes that carry one, with their command lines. */
  async function markedNow(): Promise<Map<string, string[]>> {
    const byMarker = new Map<string, string[]>();
    for (const pid of await markedProcesses(RUN_MARKER)) {
      const marker = (await readProcessEnvironment(pid))?.get(RUN_MARKER);
      const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (marker !== undefined) byMarker.set(marker, [...(byMarker.get(marker) ?? []), commandLine]);
    }
    return byMarker;
  }

  it(
    'stopped by SIGTERM mid-run, leaves nothing of the run alive, the proxy of aviary up included',
    {
      timeout: 120_000,
    },
    async () => {
      const before = new Set((await markedNow()).keys());
      const runner = spawn(
        process.execPath,
        ['--import', 'tsx', 'chaos/main.ts', '--only', 'controller-kill-canary', '--runs', '1', '--quick'],
        { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      runner.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      runner.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      const exited = new Promise<number | null>((resolve) => runner.once('exit', (code) => resolve(code)));
      // The proxy of `aviary up` runs in a process group of its own (it outlives a killed controller).
      const marker = await pollFor(
        "the run's aviary proxy",
        async () => {
          for (const [value, commandLines] of await markedNow())
            if (!before.has(value) && commandLines.some((line) => line.includes('\0proxy\0'))) return value;
          return undefined;
        },
        () => output,
        90_000,
      );
      runner.kill('SIGTERM');
      expect(await exited).toBe(130);
      // SIGKILL is delivered asynchronously: awaited, not timed; before the fix the proxy lived on.
      await pollFor(
        'every process of the stopped run gone',
        async () => ((await markedProcesses(RUN_MARKER, marker)).length === 0 ? true : undefined),
        () => `processes carrying ${RUN_MARKER}=${marker} still alive`,
        15_000,
      );
    },
  );

  it('reads its options and names a wrong one', () => {
    expect(
      readChaosOptions(['--seed', '7', '--only', 'a,b', '--only', 'c', '--runs', '3', '--report']),
    ).toMatchObject({
      seed: 7,
      only: ['a', 'b', 'c'],
      runs: 3,
      report: true,
    });
    // Long enough for the whole report (about 65 min here), yet bounded.
    expect(readChaosOptions([]).maxSeconds).toBe(7200);
    expect(() => readChaosOptions(['--runs', '0'])).toThrow(/--runs: expected an integer >= 1, got "0"/);
    expect(() => scenariosNamed(['nope'])).toThrow(/unknown scenario "nope"; known: controller-kill-canary/);
  });

  it('draws the same numbers for the same seed, scenario and run, and others for another run', () => {
    const draw = (run: number) => {
      const random = SeededRandom.forRun(16, 'torn-journal', run);
      return [random.int(0, 1000), random.int(0, 1000), random.next()];
    };
    expect(draw(1)).toEqual(draw(1));
    expect(draw(2)).not.toEqual(draw(1));
  });

  it('counts a scenario as passed only when every run passed, in the table, the JSON line and the report', () => {
    const run = (passed: boolean) => ({
      run: 1,
      passed,
      violations: passed ? [] : ['no request fails: 2 failed\n  aviary: output line'],
      figures: {},
      durationMs: 1,
    });
    const results: ScenarioResult[] = [
      { name: 'good', summary: 'a | b', runs: [run(true)], passes: 1, keyFigure: '0 failed' },
      { name: 'bad', summary: 'c', runs: [run(true), run(false)], passes: 1, keyFigure: '2 failed' },
    ];
    expect(formatTable(results).split('\n')).toEqual([
      'SCENARIO  N  PASSES  KEY FIGURE',
      'good      1  1       0 failed',
      'bad       2  1       2 failed',
    ]);
    expect(summaryOf(results, 3)).toMatchObject({ seed: 3, passed: false });
    const markdown = reliabilityMarkdown(results, { seed: 3, date: 'd', machine: 'm', durationS: 1 });
    expect(markdown).toContain('| `good` | a \\| b | 1 | 1 | 0 failed |');
    // A violation carrying a process's output stays one list item.
    expect(markdown).toContain('- `bad` run 1: no request fails: 2 failed ⏎ aviary: output line\n');
  });
});
