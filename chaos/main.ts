/**
 * `npm run chaos`: issue 16's chaos scenarios against the built product (`npm run build`
 * first; the npm script does it), each run N times with seeded faults; prints a table and,
 * last, one JSON line; `--report` also writes docs/reliability.md. Bounded by `--max-seconds`;
 * every child process is killed when a run ends, and at exit or on a signal whatever is
 * still running. Exit code 0 when every run passed, 1 otherwise, 2 for a usage error.
 * See docs/adr/0027-chaos-runner.md.
 */
import { access, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { AVIARY_BIN, REPO } from './aviary-up.js';
import { readChaosOptions, type ChaosCommandOptions } from './chaos-options.js';
import { formatTable, reliabilityMarkdown, summaryOf } from './chaos-report.js';
import { runChaos } from './chaos-runner.js';
import { closeEveryRunNow, killEveryGroupNow } from './run-scope.js';
import { scenariosNamed } from './scenarios/all-scenarios.js';

async function main(): Promise<number> {
  let options: ChaosCommandOptions;
  let scenarios;
  try {
    options = readChaosOptions(process.argv.slice(2));
    scenarios = scenariosNamed(options.only);
  } catch (error) {
    console.error(`chaos: ${(error as Error).message}`);
    return 2;
  }
  try {
    await access(join(REPO, 'dist', 'cli', 'main.js'));
  } catch {
    console.error(`chaos: ${AVIARY_BIN} needs the build; run npm run build first`);
    return 2;
  }
  const stop = new AbortController();
  const watchdog = setTimeout(() => {
    console.error(`chaos: --max-seconds ${options.maxSeconds} reached; ending the current run`);
    stop.abort();
  }, options.maxSeconds * 1000);
  watchdog.unref();
  const started = performance.now();
  console.log(
    `chaos: seed ${options.seed}; ${scenarios.map((s) => `${s.name} x${options.runs ?? s.defaultRuns}`).join(', ')}`,
  );
  const results = await runChaos({
    scenarios,
    seed: options.seed,
    ...(options.runs === undefined ? {} : { runs: options.runs }),
    inject: options.inject,
    quick: options.quick,
    signal: stop.signal,
    log: (line) => {
      if (options.verbose || !/ run \d+: /.test(line)) console.log(line);
    },
  });
  clearTimeout(watchdog);
  const durationS = (performance.now() - started) / 1000;
  console.log('');
  console.log(formatTable(results));
  const summary = summaryOf(results, options.seed);
  if (options.report) {
    const path = join(REPO, 'docs', 'reliability.md');
    await writeFile(
      path,
      reliabilityMarkdown(results, {
        seed: options.seed,
        date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
        machine: `${cpus().length} cores, Node ${process.version}`,
        durationS,
      }),
    );
    console.log(`chaos: wrote ${path}`);
  }
  console.log(JSON.stringify({ ...summary, durationS: Math.round(durationS) }));
  return summary.passed ? 0 : 1;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    void closeEveryRunNow().finally(() => process.exit(130));
  });
process.once('exit', killEveryGroupNow);

main().then(
  (code) => {
    killEveryGroupNow();
    process.exitCode = code;
  },
  (error: unknown) => {
    killEveryGroupNow();
    console.error(error);
    process.exitCode = 1;
  },
);
