/**
 * `npm run soak`: the demo's apps under `aviary up` (the built CLI, its supervised proxy and
 * process targets, driven through the control API and its own file watch) with steady
 * loopback load and a new release every few seconds to minutes, good and faulty by turns,
 * for `--duration` seconds. Prints a table and, last, one JSON line; exits 1 when a target
 * is missed. Stops by itself; a SIGINT or SIGTERM stops it early, everything it started
 * included. See docs/adr/0028-soak-runner.md.
 *
 * Options: `--duration S` (default 120, the CI figure; 1800 for the closing note's),
 * `--every S` between release starts (default duration/6 within 20..120), `--warmup S`
 * (default 660, the proxy's rolling window and a minute, for runs of 1320 s or more; else
 * duration/6, at least 20), `--rate N` requests per second (default 40),
 * `--work-dir DIR` (default a new temporary directory, removed after a run that passes),
 * `--report` to write docs/soak.md.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reportLines, reportMarkdown } from './soak-report.js';
import { runSoak } from './soak-run.js';
import { soakSettings } from './soak-options.js';
import { summarise } from './soak-summary.js';

const REPORT = fileURLToPath(new URL('../docs/soak.md', import.meta.url));

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const workDir = argv.includes('--work-dir') ? '' : await mkdtemp(join(tmpdir(), 'aviary-soak-'));
  const settings = soakSettings(argv, workDir);
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => stop.abort(signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const stamp = (line: string): void => console.log(`${new Date().toISOString().slice(11, 19)}  ${line}`);
  stamp(`soak: ${settings.durationSeconds} s, work directory ${settings.workDir}`);
  const run = await runSoak(settings, stop.signal, stamp);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  const summary = summarise(run);
  console.log('');
  for (const line of reportLines(summary)) console.log(line);
  if (settings.report) {
    const command = `npm run soak -- ${argv.filter((a) => a !== '--work-dir' && a !== settings.workDir).join(' ')}`;
    await writeFile(REPORT, reportMarkdown(summary, command.trim(), new Date()));
    console.log(`report written to ${REPORT}`);
  }
  if (summary.pass && workDir !== '') await rm(workDir, { recursive: true, force: true });
  else {
    // Every sample and idle point, to see what a missed target looked like.
    await writeFile(join(settings.workDir, 'run.json'), JSON.stringify(run));
    console.log(`the run's config, state, samples and aviary up's output are in ${settings.workDir}`);
  }
  console.log(JSON.stringify(summary));
  if (!summary.pass) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
