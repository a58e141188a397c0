/**
 * Turns the operator bench's runs into the printed table and the final JSON line, with the
 * large run's figures as ratios against the small reference run on the same control plane
 * (writes per Canary per step should stay flat; latency shows how the fleet's size costs).
 * Targets: at most 3 API writes per Canary per step, operator RSS at most 250 MB, every
 * rollout Succeeded.
 */
import { quantile } from '../controller/report.js';
import type { FleetRun } from './run-fleet.js';
import { totals, type CountSource, type RequestCount } from './request-counts.js';

/** The targets of the operator bench. */
export const TARGETS = { writesPerCanaryPerStep: 3, rssMb: 250 } as const;

const round = (x: number, digits = 2): number =>
  Number.isFinite(x) ? Number(x.toFixed(digits)) : Number.NaN;

/** The figures of one run, per Canary and per step where that is the unit. */
export interface RunFigures {
  readonly canaries: number;
  readonly succeeded: number;
  /** Median of the operator's Events per Canary during the rollout: the steps of one rollout. */
  readonly stepsPerRollout: number;
  /** Rollout writes / canaries / steps. */
  readonly writesPerCanaryPerStep: number;
  /** Rollout reads / canaries / steps; null when reads were not countable (API server count). */
  readonly readsPerCanaryPerStep: number | null;
  /** Initialisation writes / canaries. */
  readonly initialiseWritesPerCanary: number;
  /** Image patch → first operator write seen for that Canary, ms. */
  readonly firstWriteLatencyMs: { readonly p50: number; readonly p99: number };
  /** Image patch → first change of the Canary's status, ms. */
  readonly statusLatencyMs: { readonly p50: number; readonly p99: number };
  readonly rolloutSeconds: number | null;
  readonly initialiseSeconds: number | null;
  readonly rssMb: { readonly peak: number; readonly idle: number; readonly settled: number };
}

/** A ratio of two figures, NaN-safe. */
export function ratio(value: number | null, reference: number | null): number | null {
  if (
    value === null ||
    reference === null ||
    !Number.isFinite(value) ||
    !Number.isFinite(reference) ||
    reference === 0
  )
    return null;
  return round(value / reference);
}

/** Per-Canary-per-step rate of `count` requests; NaN when there were no steps. */
export function perCanaryPerStep(count: number, canaries: number, steps: number): number {
  return canaries > 0 && steps > 0 ? count / canaries / steps : Number.NaN;
}

/** The figures of `run`. */
export function figuresOf(run: FleetRun): RunFigures {
  const steps = quantile(run.stepsPerRollout, 0.5);
  const rollout = totals(run.rolloutCounts);
  const latency = (values: readonly number[]) => ({
    p50: round(quantile(values, 0.5), 0),
    p99: round(quantile(values, 0.99), 0),
  });
  return {
    canaries: run.count,
    succeeded: run.count - run.notSucceeded.length,
    stepsPerRollout: steps,
    writesPerCanaryPerStep: round(perCanaryPerStep(rollout.writes, run.count, steps)),
    readsPerCanaryPerStep:
      run.countSource === 'operator' ? round(perCanaryPerStep(rollout.reads, run.count, steps)) : null,
    initialiseWritesPerCanary: round(totals(run.initialiseCounts).writes / run.count),
    firstWriteLatencyMs: latency(run.firstWriteLatencyMs),
    statusLatencyMs: latency(run.statusLatencyMs),
    rolloutSeconds: run.rolloutSeconds === undefined ? null : round(run.rolloutSeconds, 1),
    initialiseSeconds: run.initialiseSeconds === undefined ? null : round(run.initialiseSeconds, 1),
    rssMb: {
      peak: round(run.memory.peakMb, 1),
      idle: round(run.memory.idleMb, 1),
      settled: round(run.memory.settledMb, 1),
    },
  };
}

/** The summary line's object. */
export interface BenchSummary {
  readonly canaries: number;
  readonly countedBy: CountSource;
  readonly writesPerCanaryPerStep: number;
  readonly readsPerCanaryPerStep: number | null;
  readonly latencyMs: { readonly p50: number; readonly p99: number };
  readonly rssMb: { readonly peak: number; readonly idle: number; readonly settled: number };
  readonly rolloutSeconds: number | null;
  readonly succeeded: number;
  readonly notSucceeded: readonly { name: string; phase: string }[];
  readonly reference: RunFigures | null;
  readonly ratios: {
    readonly writesPerCanaryPerStep: number | null;
    readonly latencyP50: number | null;
    readonly latencyP99: number | null;
    readonly rolloutSeconds: number | null;
    readonly rssPeak: number | null;
  } | null;
  readonly targets: {
    readonly writesAtMost3PerCanaryPerStep: boolean;
    readonly rssAtMost250Mb: boolean;
    readonly allSucceeded: boolean;
  };
  readonly stoppedEarly: string | null;
}

/** The summary of the main run against the reference run (if any). */
export function summarise(main: FleetRun, reference: FleetRun | undefined): BenchSummary {
  const figures = figuresOf(main);
  const ref = reference === undefined ? undefined : figuresOf(reference);
  return {
    canaries: main.count,
    countedBy: main.countSource,
    writesPerCanaryPerStep: figures.writesPerCanaryPerStep,
    readsPerCanaryPerStep: figures.readsPerCanaryPerStep,
    latencyMs: figures.firstWriteLatencyMs,
    rssMb: figures.rssMb,
    rolloutSeconds: figures.rolloutSeconds,
    succeeded: figures.succeeded,
    notSucceeded: main.notSucceeded.slice(0, 20),
    reference: ref ?? null,
    ratios:
      ref === undefined
        ? null
        : {
            writesPerCanaryPerStep: ratio(figures.writesPerCanaryPerStep, ref.writesPerCanaryPerStep),
            latencyP50: ratio(figures.firstWriteLatencyMs.p50, ref.firstWriteLatencyMs.p50),
            latencyP99: ratio(figures.firstWriteLatencyMs.p99, ref.firstWriteLatencyMs.p99),
            rolloutSeconds: ratio(figures.rolloutSeconds, ref.rolloutSeconds),
            rssPeak: ratio(figures.rssMb.peak, ref.rssMb.peak),
          },
    targets: {
      writesAtMost3PerCanaryPerStep: figures.writesPerCanaryPerStep <= TARGETS.writesPerCanaryPerStep,
      rssAtMost250Mb: figures.rssMb.peak <= TARGETS.rssMb,
      allSucceeded: figures.succeeded === main.count,
    },
    stoppedEarly: main.stoppedEarly ?? reference?.stoppedEarly ?? null,
  };
}

const COLUMNS = [10, 8, 10, 10, 9, 9, 11, 11, 9, 9, 9] as const;

function row(cells: readonly string[]): string {
  return cells.map((cell, i) => (i === 0 ? cell.padEnd(COLUMNS[i]) : cell.padStart(COLUMNS[i]!))).join('');
}

const show = (x: number | null, digits = 2): string =>
  x === null || !Number.isFinite(x) ? '—' : x.toFixed(digits);

function runRow(label: string, f: RunFigures): string {
  return row([
    label,
    `${f.succeeded}/${f.canaries}`,
    show(f.writesPerCanaryPerStep),
    show(f.readsPerCanaryPerStep),
    show(f.firstWriteLatencyMs.p50, 0),
    show(f.firstWriteLatencyMs.p99, 0),
    show(f.rolloutSeconds, 1),
    show(f.initialiseSeconds, 1),
    show(f.rssMb.peak, 1),
    show(f.rssMb.idle, 1),
    show(f.rssMb.settled, 1),
  ]);
}

function breakdown(counts: readonly RequestCount[], canaries: number, steps: number): string[] {
  return counts.map(
    (c) =>
      `    ${c.verb.padEnd(7)} ${c.resource.padEnd(22)} ${String(c.count).padStart(7)}  ${show(perCanaryPerStep(c.count, canaries, steps))} per Canary per step`,
  );
}

/** The human-readable report (everything but the JSON line). */
export function reportLines(
  main: FleetRun,
  reference: FleetRun | undefined,
  summary: BenchSummary,
  settings: string,
): string[] {
  const figures = figuresOf(main);
  const header = row([
    'run',
    'ok',
    'writes/st',
    'reads/st',
    'lat p50',
    'lat p99',
    'rollout s',
    'init s',
    'rss peak',
    'rss idle',
    'rss end',
  ]);
  const lines = [
    `operator bench: aviary operator (compiled CLI, child process) on a real control plane; ${settings}`,
    `API requests counted by ${
      main.countSource === 'operator'
        ? "the operator's own aviary_kube_api_requests_total (its control API's /metrics)"
        : "the API server's apiserver_request_total: APPLY on any resource + PATCH canaries/status (the operator's writes only; reads not attributable)"
    }`,
    header,
    '-'.repeat(header.length),
    ...(reference === undefined ? [] : [runRow(`N=${reference.count}`, figuresOf(reference))]),
    runRow(`N=${main.count}`, figures),
    '',
    'writes/st, reads/st = API requests of the operator from the first image patch until 3 s after the last',
    'rollout ended, per Canary, per step (a step = a transition: a Normal Event but NotReady on the Canary; median',
    `${figures.stepsPerRollout} per rollout). lat = ms from the bench sending a Canary's image patch to its watch`,
    "seeing the operator's first write for it (the target scaled up from 0, or the Canary's status changed,",
    'whichever came first; a target that still runs its replica is not scaled, so then it is the status).',
    'rollout s = first image patch to the last rollout ended; rss = VmHWM, and median VmRSS idle (initialized) and after.',
    '',
    `N=${main.count}: image patches sent within ${show(main.patchSpreadSeconds, 1)} s; first status write p50 ${show(figures.statusLatencyMs.p50, 0)} ms, p99 ${show(figures.statusLatencyMs.p99, 0)} ms; initialisation ${show(figures.initialiseWritesPerCanary)} writes per Canary`,
    `rollout requests of N=${main.count} by verb and resource:`,
    ...breakdown(main.rolloutCounts, main.count, figures.stepsPerRollout),
    `Events on the Canaries during the rollout of N=${main.count}: ${JSON.stringify(main.eventReasons)}`,
    `phases at the end: ${JSON.stringify(main.phases)}`,
  ];
  if (main.notSucceeded.length > 0)
    lines.push(
      `NOT Succeeded (${main.notSucceeded.length}): ${main.notSucceeded
        .slice(0, 20)
        .map((m) => `${m.name}=${m.phase}`)
        .join(', ')}`,
    );
  if (summary.stoppedEarly !== null) lines.push(`stopped early: ${summary.stoppedEarly}`);
  if (summary.ratios !== null) {
    const r = summary.ratios;
    lines.push(
      '',
      `ratios N=${main.count} / N=${reference?.count}: writes per Canary per step ${show(r.writesPerCanaryPerStep)}, latency p50 ${show(r.latencyP50)}, p99 ${show(r.latencyP99)}, rollout wall time ${show(r.rolloutSeconds)}, peak RSS ${show(r.rssPeak)}`,
    );
  }
  lines.push(
    '',
    'targets:',
    `  ${summary.targets.writesAtMost3PerCanaryPerStep ? 'PASS' : 'FAIL'}  writes per Canary per step <= ${TARGETS.writesPerCanaryPerStep}: ${show(figures.writesPerCanaryPerStep)}`,
    `  ${summary.targets.rssAtMost250Mb ? 'PASS' : 'FAIL'}  operator peak RSS <= ${TARGETS.rssMb} MB: ${show(figures.rssMb.peak, 1)} MB`,
    `  ${summary.targets.allSucceeded ? 'PASS' : 'FAIL'}  every rollout Succeeded: ${figures.succeeded}/${main.count}`,
  );
  return lines;
}
