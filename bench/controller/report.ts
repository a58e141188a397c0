/**
 * Turns a fleet run into the printed table and the final JSON line of
 * `npm run bench:controller`, and judges the issue-3 targets: median tick CPU at most 1 ms
 * and peak RSS at most 150 MB for 1,000 concurrent rollouts.
 */
import type { FleetRun, Stage } from './run-fleet.js';
import type { TickSample } from './tick-probe.js';

/** Issue 3's targets. */
export const TARGETS = { medianTickCpuMs: 1, rssMb: 150 } as const;

/** Nearest-rank quantile of a non-empty list (a value that occurred); NaN for an empty one. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const round = (x: number, digits = 3): number => Number(x.toFixed(digits));
const mb = (bytes: number): number => round(bytes / (1024 * 1024), 1);

/** The summary line's object; its first keys are the ones the issue asks for. */
export interface BenchSummary {
  readonly rollouts: number;
  readonly ticks: number;
  readonly tickCpuMs: { readonly median: number; readonly p99: number };
  readonly rssMb: { readonly peak: number };
  readonly succeeded: number;
  readonly durationSeconds: number;
  readonly targets: { readonly medianTickAtMost1ms: boolean; readonly rssAtMost150Mb: boolean };
  /** The controller's own tick duration (wall time up to persistence), ms. */
  readonly tickWallMs: { readonly median: number; readonly p99: number };
  /** Tick start until its state is durable in the journal, ms. */
  readonly tickLatencyMs: { readonly median: number; readonly p99: number };
  /** Process CPU over the run divided by ticks, ms: everything, persistence included. */
  readonly processCpuMsPerTick: number;
  readonly errors: number;
  /** State journals sealed and folded during the run: compaction is inside what was measured. */
  readonly journalsFolded: number;
}

/** The summary of a run. */
export function summarise(run: FleetRun): BenchSummary {
  // The figures are those of the rollouts; the idle stage is reported on its own.
  const samples = run.samples.filter((s) => s.stage !== 'idle');
  const cpu = samples.map((s) => s.cpuMs);
  const tickCpuMs = { median: round(quantile(cpu, 0.5)), p99: round(quantile(cpu, 0.99)) };
  const rssPeak = mb(run.rssPeakBytes);
  return {
    rollouts: run.rollouts,
    ticks: samples.length,
    tickCpuMs,
    rssMb: { peak: rssPeak },
    succeeded: run.succeeded,
    durationSeconds: round(run.durationSeconds, 1),
    targets: {
      medianTickAtMost1ms: tickCpuMs.median <= TARGETS.medianTickCpuMs,
      rssAtMost150Mb: rssPeak <= TARGETS.rssMb,
    },
    tickWallMs: {
      median: round(
        quantile(
          samples.map((s) => s.tickMs),
          0.5,
        ),
      ),
      p99: round(
        quantile(
          samples.map((s) => s.tickMs),
          0.99,
        ),
      ),
    },
    tickLatencyMs: {
      median: round(
        quantile(
          samples.map((s) => s.latencyMs),
          0.5,
        ),
        1,
      ),
      p99: round(
        quantile(
          samples.map((s) => s.latencyMs),
          0.99,
        ),
        1,
      ),
    },
    processCpuMsPerTick: round(run.processCpuMs / Math.max(1, samples.length)),
    errors: run.errors,
    journalsFolded: run.journalsFolded,
  };
}

const COLUMNS = [12, 8, 10, 10, 10, 10, 12, 12, 9] as const;

function row(cells: readonly string[]): string {
  return cells.map((cell, i) => (i === 0 ? cell.padEnd(COLUMNS[i]) : cell.padStart(COLUMNS[i]!))).join('');
}

function stageRow(label: string, samples: readonly TickSample[], seconds: number): string {
  const pick = (f: (s: TickSample) => number, q: number, digits = 3): string =>
    samples.length === 0 ? '—' : quantile(samples.map(f), q).toFixed(digits);
  return row([
    label,
    String(samples.length),
    pick((s) => s.cpuMs, 0.5),
    pick((s) => s.cpuMs, 0.99),
    pick((s) => s.tickMs, 0.5),
    pick((s) => s.tickMs, 0.99),
    pick((s) => s.latencyMs, 0.5, 1),
    pick((s) => s.latencyMs, 0.99, 1),
    seconds.toFixed(1),
  ]);
}

/** The human-readable report (everything but the JSON line). */
export function reportLines(run: FleetRun, summary: BenchSummary, stateRoot: string): string[] {
  const header = row([
    'stage',
    'ticks',
    'cpu p50',
    'cpu p99',
    'wall p50',
    'wall p99',
    'latency p50',
    'latency p99',
    'seconds',
  ]);
  const stages: Stage[] = ['initialise', 'rollout', 'idle'];
  const rollouts = run.samples.filter((s) => s.stage !== 'idle');
  const idleTicks = run.samples.length - rollouts.length;
  const lines = [
    `controller bench: ${run.rollouts} concurrent rollouts in one process (in-memory target and router, state in ${stateRoot})`,
    header,
    '-'.repeat(header.length),
    ...stages.map((stage) =>
      stageRow(
        stage,
        run.samples.filter((s) => s.stage === stage),
        run.stageSeconds[stage],
      ),
    ),
    stageRow('rollouts', rollouts, run.durationSeconds),
    '',
    'rollouts = initialise + rollout: the ticks behind the summary line. cpu = process.cpuUsage()',
    "over a tick up to persistence; wall = the controller's own tick duration",
    '(aviary_rollout_tick_seconds); latency = tick start until its state is durable (journal fsync); all in ms.',
    '',
    `process CPU ${(run.processCpuMs / 1000).toFixed(1)} s over ${summary.ticks} ticks = ${summary.processCpuMsPerTick} ms per tick, persistence included`,
    run.stageSeconds.idle > 0
      ? `idle: ${run.succeeded} settled apps ticked ${(idleTicks / run.stageSeconds.idle).toFixed(0)} times/s using ${((100 * run.idleCpuMs) / 1000 / run.stageSeconds.idle).toFixed(1)}% of a core`
      : 'idle: not measured (--idle 0)',
    `/metrics reports ${run.exported.ticks} ticks (idle included), ${run.exported.seconds.toFixed(2)} s; probe saw ${run.samples.length} ticks, ${(run.samples.reduce((a, s) => a + s.tickMs, 0) / 1000).toFixed(2)} s`,
    `phases at the end: ${JSON.stringify(run.phases)}; metric queries answered: ${run.observerQueries}; tick errors: ${run.errors}${run.firstError ? ` (first: ${run.firstError})` : ''}`,
    `state journals sealed and folded into snapshots during the run: ${run.journalsFolded}`,
    `peak RSS ${summary.rssMb.peak} MB (${mb(run.rssBeforeStartBytes)} MB before the controller started; largest V8 heap ${mb(run.heapPeak.totalBytes)} MB with ${mb(run.heapPeak.usedBytes)} MB in use)`,
    '',
    'targets:',
    `  ${summary.targets.medianTickAtMost1ms ? 'PASS' : 'FAIL'}  median tick CPU <= ${TARGETS.medianTickCpuMs} ms: ${summary.tickCpuMs.median} ms (p99 ${summary.tickCpuMs.p99} ms)`,
    `  ${summary.targets.rssAtMost150Mb ? 'PASS' : 'FAIL'}  peak RSS <= ${TARGETS.rssMb} MB: ${summary.rssMb.peak} MB`,
  ];
  return lines;
}
