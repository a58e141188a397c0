/**
 * `npm run bench:operator`: N Canaries rolled out at once by the real `aviary operator`
 * (the compiled CLI, as a child process, with a user's defaults and `--min-interval`) on the
 * real test control plane (etcd, kube-apiserver, controller-manager, scheduler, KWOK pods),
 * after a small reference run on the same plane. Reports the operator's API requests per
 * Canary per step, the latency from an image patch to the operator's first write, its RSS,
 * the rollout wall time and outcomes; the last line is one JSON object. Stops by itself
 * within `--budget` seconds and stops every process it started.
 *
 * Options: `--canaries N` (default 200), `--reference N` the run before it (default 10; 0
 * skips it), `--interval D` the Canaries' analysis.interval (default 1m: the seed's, and
 * Flagger's default, so the operator runs at the cadence its users give it; 10s is the
 * shortest the Canary CRD accepts), `--budget S` for the whole bench (default 2400).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startControlPlane, type ControlPlane } from '../../test/cluster/control-plane.js';
import { reportLines, summarise } from './report.js';
import { runFleet, type FleetRun } from './run-fleet.js';

const CRDS = fileURLToPath(new URL('../../deploy/kubernetes/crds', import.meta.url));
const STEP_WEIGHTS = [10, 50] as const;

function option(argv: readonly string[], name: string, fallback: number, min: number): number {
  const at = argv.indexOf(name);
  if (at === -1) return fallback;
  const value = Number(argv[at + 1]);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name}: expected a whole number >= ${min}, got ${JSON.stringify(argv[at + 1])}`);
  }
  return value;
}

function durationOption(argv: readonly string[], name: string, fallback: string): string {
  const at = argv.indexOf(name);
  if (at === -1) return fallback;
  const value = argv[at + 1] ?? '';
  if (!/^\d+(ms|s|m)$/.test(value))
    throw new Error(`${name}: expected a duration such as 1s, got ${JSON.stringify(value)}`);
  return value;
}

const log = (line: string): void => {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const count = option(argv, '--canaries', 200, 1);
  const referenceCount = option(argv, '--reference', 10, 0);
  const interval = durationOption(argv, '--interval', '1m');
  const budgetSeconds = option(argv, '--budget', 2400, 30);
  const deadline = performance.now() + budgetSeconds * 1000;
  const dir = await mkdtemp(join(tmpdir(), 'aviary-bench-operator-'));
  let plane: ControlPlane | undefined;
  // A bench that hangs past its budget (a setup step that never returns) is stopped anyway.
  const hardStop = setTimeout(
    () => {
      log(`budget of ${budgetSeconds} s exceeded by 120 s: stopping`);
      void (plane?.stop() ?? Promise.resolve()).finally(() => process.exit(1));
    },
    (budgetSeconds + 120) * 1000,
  );
  hardStop.unref();
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) return;
    interrupted = true;
    log('interrupted: stopping the operator and the control plane');
    void (plane?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    log(`starting the control plane in ${dir}`);
    plane = await startControlPlane({ dir: join(dir, 'cluster'), extraCrds: [CRDS] });
    const analysis = { interval, stepWeights: STEP_WEIGHTS };
    const run = (n: number, namespace: string): Promise<FleetRun> =>
      runFleet({ plane: plane!, namespace, count: n, analysis, deadline, dir, log });
    const reference = referenceCount > 0 ? await run(referenceCount, `bench-${referenceCount}`) : undefined;
    const measured = await run(count, `bench-${count}`);
    const summary = summarise(measured, reference);
    const settings = `analysis interval ${interval}, stepWeights [${STEP_WEIGHTS.join(', ')}], threshold 1, no metrics, judge off; --budget ${budgetSeconds}`;
    for (const line of reportLines(measured, reference, summary, settings)) console.log(line);
    console.log(JSON.stringify(summary));
    const failed =
      !summary.targets.allSucceeded || summary.stoppedEarly !== null || reference?.notSucceeded.length !== 0;
    if (failed) process.exitCode = 1;
  } finally {
    clearTimeout(hardStop);
    await plane?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
