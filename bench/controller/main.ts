/**
 * `npm run bench:controller`: 1,000 concurrent rollouts in one process through the real
 * rollout controller, against the in-memory target and router, with state persisted to a
 * temporary directory. Prints a table of CPU per tick and peak RSS; the last line is one
 * JSON object. Stops by itself within `--budget` seconds.
 *
 * Options: `--rollouts N` (default 1000), `--interval MS` analysis interval (default 1000),
 * `--state-root DIR` where the state directory is made (default the OS temp dir; a tmpfs
 * such as /dev/shm shows the run without fsync cost), `--budget S` for the rollouts (default
 * 90), `--idle S` of idle ticking measured after them (default 3), `--compact-at MB` the
 * state journal size that seals and folds it (default 4, so a run folds one journal
 * while it measures; the product's default is 16).
 */
import { tmpdir } from 'node:os';
import { reportLines, summarise } from './report.js';
import { runFleet } from './run-fleet.js';

function option(argv: readonly string[], name: string, fallback: number, min: number): number {
  const at = argv.indexOf(name);
  if (at === -1) return fallback;
  const value = Number(argv[at + 1]);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name}: expected a whole number >= ${min}, got ${JSON.stringify(argv[at + 1])}`);
  }
  return value;
}

function stringOption(argv: readonly string[], name: string, fallback: string): string {
  const at = argv.indexOf(name);
  if (at === -1) return fallback;
  const value = argv[at + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`${name}: expected a value`);
  return value;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const count = option(argv, '--rollouts', 1000, 1);
  const intervalMs = option(argv, '--interval', 1000, 50);
  const budgetMs = option(argv, '--budget', 90, 5) * 1000;
  const idleMs = option(argv, '--idle', 3, 0) * 1000;
  const stateRoot = stringOption(argv, '--state-root', tmpdir());
  const compactAtBytes = option(argv, '--compact-at', 4, 1) * 1024 * 1024;
  const run = await runFleet({ count, intervalMs, budgetMs, idleMs, stateRoot, compactAtBytes });
  const summary = summarise(run);
  for (const line of reportLines(run, summary, stateRoot)) console.log(line);
  console.log(JSON.stringify(summary));
  // An unfinished or failing run measured something else than the rollouts it claims.
  if (summary.succeeded !== count || summary.errors > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
