/**
 * A soak run turned into the figures of the final JSON line, and issue 16's targets judged
 * on them: RSS growth at most 10% from the first idle point after the warm-up to the last
 * (in a run long enough to warm the product up),
 * no descriptor growth, no failed request attributable to Aviary, every release ending as
 * it should (good promoted, faulty rolled back) and the same Aviary processes throughout.
 * `targetsOf` is pure, so its verdicts are tested on good and bad figures alike.
 */
import type { IdlePoint } from './idle-point.js';
import { floorOver } from './process-sampler.js';
import { FULL_WARMUP_SECONDS } from './soak-options.js';
import type { SoakRun } from './soak-run.js';

/** Issue 16's RSS target: growth after the warm-up, as a fraction. */
export const MAX_RSS_GROWTH = 0.1;

/** One Aviary process's figures from the first idle point after the warm-up to the last. */
export interface ProcessSummary {
  readonly role: string;
  readonly pid: number;
  readonly rssMb: { readonly start: number; readonly end: number };
  /** (end − start) / start, percent. */
  readonly rssGrowthPct: number;
  /** Open descriptors other than established TCP connections (aviary-processes.ts). */
  readonly fds: { readonly start: number; readonly end: number };
  /** Established TCP connections: reported, not judged (keep-alive pools follow the load). */
  readonly connections: { readonly start: number; readonly end: number };
  /** Event-loop delay p99 over the last one to two minutes, ms: at the end, and the worst read after the warm-up. */
  readonly eventLoopP99Ms: { readonly end: number; readonly worst: number } | null;
}

/** The last line of `npm run soak`. */
export interface SoakSummary {
  readonly soak: {
    readonly durationSeconds: number;
    readonly everySeconds: number;
    readonly ratePerSecond: number;
    /** The idle points compared: after the warm-up, and the last. */
    readonly measuredFromSeconds: number | null;
    readonly measuredToSeconds: number | null;
    /** Each figure is the floor of its samples over this long at each end (process-sampler.ts). */
    readonly windowSeconds: number | null;
  };
  readonly processes: readonly ProcessSummary[];
  /**
   * The measurement starts {@link FULL_WARMUP_SECONDS} or more after the load: the product has
   * warmed up, and RSS growth is judged. A shorter run reports it without a verdict.
   */
  readonly warmedUp: boolean;
  /** The same pids and roles at every idle point (no Aviary process restarted), the controller and its proxy among them. */
  readonly processesStable: boolean;
  readonly requests: {
    readonly sent: number;
    readonly ok: number;
    /** Failed by a faulty release (the injected faults). */
    readonly appFailures: number;
    /** Failed by Aviary, or unexplained. */
    readonly aviaryFailures: number;
    /** Not sent: too many waiting on the router. */
    readonly notSent: number;
    readonly aviaryReasons: Readonly<Record<string, number>>;
  };
  readonly rollouts: {
    readonly total: number;
    readonly promoted: number;
    readonly rolledBack: number;
    /** Releases that did not end as they should (a good one not promoted, a faulty one not rolled back). */
    readonly unexpected: number;
    readonly longestSeconds: number;
  };
  readonly journal: {
    readonly startBytes: number;
    readonly endBytes: number;
    readonly snapshotBytes: number;
    /** Journal seals (each folded into the snapshots) during the run; the journal seals at 16 MiB. */
    readonly folds: number;
    /** Journal and snapshot bytes added per release: how soon a fold comes. */
    readonly bytesPerRelease: number;
  };
  readonly machine: {
    readonly cpus: number;
    readonly loadAverage1m: { readonly start: number; readonly end: number };
  };
  readonly targets: SoakTargets;
  readonly pass: boolean;
  readonly error?: string;
}

/** Each target's verdict. */
export interface SoakTargets {
  /** Null when not judged: the run measured before the product had warmed up. */
  readonly rssGrowthAtMost10Pct: boolean | null;
  readonly noFdGrowth: boolean;
  readonly zeroAviaryFailures: boolean;
  readonly rolloutsAsExpected: boolean;
  readonly processesStable: boolean;
}

/** The figures the targets are judged on. */
export type TargetFigures = Pick<
  SoakSummary,
  'processes' | 'warmedUp' | 'processesStable' | 'requests' | 'rollouts'
>;

/**
 * The verdict on each target. With no process measured, or fewer than a good and a faulty
 * release, nothing was shown, so the targets that need them fail rather than pass vacuously.
 * RSS growth is judged only once the product has warmed up: before, its rolling windows and
 * V8's heap sizing move RSS by more than the target (runs of 120 s gave −19% to +23% with no
 * leak, docs/adr/0028-soak-runner.md).
 */
export function targetsOf(figures: TargetFigures): SoakTargets {
  const { processes, requests, rollouts } = figures;
  const measured = processes.length > 0;
  return {
    rssGrowthAtMost10Pct: !figures.warmedUp
      ? null
      : measured && processes.every((p) => p.rssGrowthPct <= MAX_RSS_GROWTH * 100),
    noFdGrowth: measured && processes.every((p) => p.fds.end <= p.fds.start),
    zeroAviaryFailures: requests.ok > 0 && requests.aviaryFailures === 0 && requests.notSent === 0,
    rolloutsAsExpected: rollouts.promoted >= 1 && rollouts.rolledBack >= 1 && rollouts.unexpected === 0,
    processesStable: figures.processesStable,
  };
}

const mb = (bytes: number): number => Number((bytes / 2 ** 20).toFixed(1));
const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

/** Same pids and roles at every point, with the controller (`up`) and its `proxy` among them. */
function stableProcesses(points: readonly IdlePoint[]): boolean {
  const key = (point: IdlePoint): string =>
    point.processes
      .map((p) => `${p.role}:${p.pid}`)
      .sort()
      .join(',');
  const first = points[0];
  if (first === undefined) return false;
  const roles = first.processes.map((p) => p.role);
  return roles.includes('up') && roles.includes('proxy') && points.every((p) => key(p) === key(first));
}

/**
 * How long a window each end's figure is the floor of: a quarter of the time measured, at
 * least 20 s and at most 120 s, and never more than half of it (the windows do not overlap).
 */
export function windowSecondsFor(spanSeconds: number): number {
  return Math.min(spanSeconds / 2, Math.min(120, Math.max(20, spanSeconds / 4)));
}

/** The summary of `run`. */
export function summarise(run: SoakRun): SoakSummary {
  const from = run.warmIndex === -1 ? undefined : run.points[run.warmIndex];
  const to = run.warmIndex === -1 ? undefined : run.points.at(-1);
  const window =
    from === undefined || to === undefined ? undefined : windowSecondsFor(to.atSeconds - from.atSeconds);
  const processes: ProcessSummary[] = (from?.processes ?? []).flatMap(({ pid, role }) => {
    if (from === undefined || to === undefined || window === undefined || to === from) return [];
    const start = floorOver(run.samples, pid, from.atSeconds, from.atSeconds + window);
    const end = floorOver(run.samples, pid, to.atSeconds - window, to.atSeconds);
    if (start === undefined || end === undefined) return [];
    const loop = run.eventLoopP99Ms[role];
    return [
      {
        role,
        pid,
        rssMb: { start: mb(start.rssBytes), end: mb(end.rssBytes) },
        rssGrowthPct: round((100 * (end.rssBytes - start.rssBytes)) / start.rssBytes),
        fds: { start: start.fds, end: end.fds },
        connections: { start: start.connections, end: end.connections },
        eventLoopP99Ms: loop === undefined ? null : { end: round(loop.end, 2), worst: round(loop.worst, 2) },
      },
    ];
  });
  const expected = (r: SoakRun['rollouts'][number]): string => (r.faulty ? 'Failed' : 'Succeeded');
  const firstJournal = run.points[0]?.journal;
  const lastJournal = run.points.at(-1)?.journal;
  const figures: TargetFigures = {
    processes,
    warmedUp: from !== undefined && from.atSeconds >= FULL_WARMUP_SECONDS,
    processesStable: stableProcesses(run.points),
    requests: {
      sent: run.load.sent,
      ok: run.load.ok,
      appFailures: run.load.app,
      aviaryFailures: run.load.aviary,
      notSent: run.load.skipped,
      aviaryReasons: run.load.aviaryReasons,
    },
    rollouts: {
      total: run.rollouts.length,
      promoted: run.rollouts.filter((r) => r.phase === 'Succeeded').length,
      rolledBack: run.rollouts.filter((r) => r.phase === 'Failed').length,
      unexpected: run.rollouts.filter((r) => r.phase !== expected(r)).length,
      longestSeconds: round(Math.max(0, ...run.rollouts.map((r) => r.seconds))),
    },
  };
  const targets = targetsOf(figures);
  return {
    soak: {
      durationSeconds: round(run.durationSeconds),
      everySeconds: run.settings.everySeconds,
      ratePerSecond: run.settings.ratePerSecond,
      measuredFromSeconds: from === undefined ? null : round(from.atSeconds),
      measuredToSeconds: to === undefined ? null : round(to.atSeconds),
      windowSeconds: window === undefined ? null : round(window),
    },
    ...figures,
    journal: {
      startBytes: firstJournal?.journalBytes ?? 0,
      endBytes: lastJournal?.journalBytes ?? 0,
      snapshotBytes: lastJournal?.snapshotBytes ?? 0,
      folds: (lastJournal?.generation ?? 0) - (firstJournal?.generation ?? 0),
      bytesPerRelease: Math.round(
        ((lastJournal?.journalBytes ?? 0) +
          (lastJournal?.snapshotBytes ?? 0) -
          (firstJournal?.journalBytes ?? 0)) /
          Math.max(1, run.rollouts.length),
      ),
    },
    machine: {
      cpus: run.machine.cpus,
      loadAverage1m: {
        start: round(run.machine.loadStart[0] ?? 0, 2),
        end: round(run.machine.loadEnd[0] ?? 0, 2),
      },
    },
    targets,
    pass: run.error === undefined && Object.values(targets).every((met) => met !== false),
    ...(run.error === undefined ? {} : { error: run.error }),
  };
}
