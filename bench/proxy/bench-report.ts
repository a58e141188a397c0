/**
 * Figures of the proxy bench: one measured window (load result plus the CPU it cost the
 * proxy and what else ran on the proxy's core), the ratios within each round and their
 * medians against the targets of issue 2, the human-readable table, and the final JSON line.
 */
import { errorCount, type LoadResult } from './load-result.js';
import type { BenchSettings, RunName } from './bench-settings.js';

/** One run as reported. */
export interface RunFigures {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly non2xx3xx: number;
  readonly socketErrors: LoadResult['socketErrors'];
  /** Zero non-2xx/3xx and zero socket errors. */
  readonly errorFree: boolean;
  /** CPU time of the proxy process per request (null for the direct run). */
  readonly proxyCpuUsPerRequest: number | null;
  /**
   * 1e6 / proxyCpuUsPerRequest: the rps the proxy would reach with a whole core to itself.
   * Informational; steadier than rps when other work shares the core.
   */
  readonly cpuBoundRps: number | null;
  /** CPU use of the proxy process during the window, % of one core. */
  readonly proxyCpuPct: number | null;
  /** Busy time on the proxy core not spent by the proxy process (other work, interrupts), %. */
  readonly otherBusyOnProxyCorePct: number | null;
  /** Hypervisor steal on the proxy core, %. */
  readonly stealOnProxyCorePct: number | null;
  /** Busy time of the load core (generator, backends and anything else), %: near 100 means the load side limited the run. */
  readonly loadCoreBusyPct: number | null;
  /** rps of every round, in order, when there were several. */
  readonly roundsRps: readonly number[];
}

/** Targets of issue 2 ("Performance"). */
export const TARGETS = {
  minAviaryOverBare: 0.9,
  minAviaryOverHaproxy: 0.35,
  p99Factor: 2,
  p99SlackMs: 2,
  /** Issue 15: Aviary's HAProxy router against plain HAProxy with the same split. */
  minAviaryHaproxyOverHaproxy: 0.9,
  maxAviaryHaproxyP99ExtraMs: 1,
};

const round = (value: number, digits: number): number => Number(value.toFixed(digits));

/** Ratios of one round (null when a run is missing). */
export function roundRatios(runs: Partial<Record<RunName, RunFigures>>) {
  const { aviary, bareUndici, haproxy, aviaryHaproxy, aviaryHttp2 } = runs;
  const ratio = (a: number | undefined, b: number | undefined): number | null =>
    a === undefined || b === undefined || b === 0 ? null : round(a / b, 3);
  const p99BoundMs = haproxy ? round(TARGETS.p99Factor * haproxy.p99Ms + TARGETS.p99SlackMs, 3) : null;
  const cpuBound = (run: RunFigures | undefined): number | undefined => run?.cpuBoundRps ?? undefined;
  return {
    aviaryOverBareRps: ratio(aviary?.rps, bareUndici?.rps),
    aviaryOverHaproxyRps: ratio(aviary?.rps, haproxy?.rps),
    aviaryP99OverHaproxyP99Bound: ratio(aviary?.p99Ms, p99BoundMs ?? undefined),
    p99BoundMs,
    aviaryOverBareCpuBoundRps: ratio(cpuBound(aviary), cpuBound(bareUndici)),
    aviaryOverHaproxyCpuBoundRps: ratio(cpuBound(aviary), cpuBound(haproxy)),
    aviaryHaproxyOverHaproxyRps: ratio(aviaryHaproxy?.rps, haproxy?.rps),
    aviaryHaproxyP99MinusHaproxyP99Ms:
      aviaryHaproxy && haproxy ? round(aviaryHaproxy.p99Ms - haproxy.p99Ms, 3) : null,
    aviaryHaproxyOverHaproxyCpuBoundRps: ratio(cpuBound(aviaryHaproxy), cpuBound(haproxy)),
    /** Informational (issue 15 sets no target): Aviary's listener on h2c against HTTP/1.1. */
    aviaryHttp2OverAviaryRps: ratio(aviaryHttp2?.rps, aviary?.rps),
    aviaryHttp2OverAviaryCpuBoundRps: ratio(cpuBound(aviaryHttp2), cpuBound(aviary)),
  };
}

export type Ratios = ReturnType<typeof roundRatios>;

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return round(sorted.length % 2 === 1 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2, 3);
}

/**
 * The verdict on paired rounds: each ratio is taken within a round (the two proxies loaded
 * back to back), and the median over rounds is judged against the targets of issue 2.
 */
export function judgeRounds(rounds: readonly Partial<Record<RunName, RunFigures>>[]) {
  const perRound = rounds.map(roundRatios);
  const keys = Object.keys(roundRatios({})) as (keyof Ratios)[];
  const series = Object.fromEntries(
    keys.map((key) => [key, perRound.map((r) => r[key]).filter((v): v is number => v !== null)]),
  ) as Record<keyof Ratios, number[]>;
  const ratios = Object.fromEntries(keys.map((key) => [key, median(series[key])])) as Ratios;
  const { aviaryOverBareRps, aviaryOverHaproxyRps, aviaryP99OverHaproxyP99Bound } = ratios;
  const { aviaryHaproxyOverHaproxyRps, aviaryHaproxyP99MinusHaproxyP99Ms } = ratios;
  return {
    ratios,
    perRound: {
      aviaryOverBareRps: series.aviaryOverBareRps,
      aviaryOverHaproxyRps: series.aviaryOverHaproxyRps,
      aviaryP99OverHaproxyP99Bound: series.aviaryP99OverHaproxyP99Bound,
      aviaryHaproxyOverHaproxyRps: series.aviaryHaproxyOverHaproxyRps,
      aviaryHaproxyP99MinusHaproxyP99Ms: series.aviaryHaproxyP99MinusHaproxyP99Ms,
    },
    targets: {
      aviaryAtLeast0_9xBare:
        aviaryOverBareRps === null ? null : aviaryOverBareRps >= TARGETS.minAviaryOverBare,
      aviaryAtLeast0_35xHaproxy:
        aviaryOverHaproxyRps === null ? null : aviaryOverHaproxyRps >= TARGETS.minAviaryOverHaproxy,
      aviaryP99AtMost2xHaproxyPlus2ms:
        aviaryP99OverHaproxyP99Bound === null ? null : aviaryP99OverHaproxyP99Bound <= 1,
      aviaryHaproxyAtLeast0_9xHaproxy:
        aviaryHaproxyOverHaproxyRps === null
          ? null
          : aviaryHaproxyOverHaproxyRps >= TARGETS.minAviaryHaproxyOverHaproxy,
      aviaryHaproxyP99AtMostHaproxyPlus1ms:
        aviaryHaproxyP99MinusHaproxyP99Ms === null
          ? null
          : aviaryHaproxyP99MinusHaproxyP99Ms <= TARGETS.maxAviaryHaproxyP99ExtraMs,
    },
  };
}

export type Verdict = ReturnType<typeof judgeRounds>;

/** Builds the figures of one run from its load result and CPU samples. */
export function runFigures(
  result: LoadResult,
  cpu: {
    proxyMs: number | undefined;
    coreBusyMs: number | undefined;
    loadCoreBusyMs: number | undefined;
    coreStealMs: number | undefined;
    windowMs: number;
  },
  roundsRps: readonly number[],
): RunFigures {
  const pct = (ms: number | undefined): number | null =>
    ms === undefined ? null : round((100 * ms) / cpu.windowMs, 1);
  return {
    rps: round(result.rps, 0),
    p50Ms: round(result.p50Ms, 3),
    p99Ms: round(result.p99Ms, 3),
    requests: result.requests,
    non2xx3xx: result.non2xx3xx,
    socketErrors: result.socketErrors,
    errorFree: errorCount(result) === 0,
    proxyCpuUsPerRequest:
      cpu.proxyMs === undefined || result.requests === 0
        ? null
        : round((cpu.proxyMs * 1000) / result.requests, 1),
    cpuBoundRps:
      cpu.proxyMs === undefined || cpu.proxyMs === 0
        ? null
        : round((result.requests * 1000) / cpu.proxyMs, 0),
    proxyCpuPct: pct(cpu.proxyMs),
    otherBusyOnProxyCorePct:
      cpu.coreBusyMs === undefined ? null : pct(Math.max(0, cpu.coreBusyMs - (cpu.proxyMs ?? 0))),
    stealOnProxyCorePct: pct(cpu.coreStealMs),
    loadCoreBusyPct: pct(cpu.loadCoreBusyMs),
    roundsRps,
  };
}

const LABELS: Record<RunName, string> = {
  direct: 'direct to backend',
  bareUndici: 'bare undici proxy',
  aviary: 'aviary proxy (CLI)',
  haproxy: 'haproxy 1 thread',
  aviaryHaproxy: 'aviary haproxy router',
  aviaryHttp2: 'aviary proxy h2c',
};

/** One line of the table. */
export function formatRun(name: RunName, run: RunFigures | null | undefined): string {
  if (run === undefined) return `${LABELS[name].padEnd(22)} not run`;
  if (run === null) return `${LABELS[name].padEnd(22)} skipped (not installed)`;
  const cpu =
    run.proxyCpuUsPerRequest === null ? '' : `  cpu ${run.proxyCpuUsPerRequest} us/req (${run.proxyCpuPct}%)`;
  const other =
    run.otherBusyOnProxyCorePct === null ? '' : `  other on proxy core ${run.otherBusyOnProxyCorePct}%`;
  const loadCore = run.loadCoreBusyPct === null ? '' : `  load core busy ${run.loadCoreBusyPct}%`;
  const s = run.socketErrors;
  const errors = run.errorFree
    ? ''
    : `  ERRORS: non-2xx/3xx ${run.non2xx3xx}, socket connect ${s.connect} read ${s.read} write ${s.write} timeout ${s.timeout}`;
  return `${LABELS[name].padEnd(22)} ${String(run.rps).padStart(7)} rps  p50 ${run.p50Ms.toFixed(2).padStart(6)} ms  p99 ${run.p99Ms.toFixed(2).padStart(7)} ms${cpu}${other}${loadCore}${errors}`;
}

/** The last line: one JSON object with every figure. */
export function summaryJson(
  settings: BenchSettings,
  meta: { loadGenerator: string; backend: string; pinned: boolean; loadAverage1mAtStart: number },
  runs: Partial<Record<RunName, RunFigures | null>>,
  verdict: Verdict,
): string {
  const present = Object.values(runs).filter((r): r is RunFigures => r !== null && r !== undefined);
  return JSON.stringify({
    connections: settings.connections,
    durationSeconds: settings.durationSeconds,
    warmupSeconds: settings.warmupSeconds,
    primeSeconds: settings.primeSeconds,
    rounds: settings.rounds,
    nice: settings.nice,
    ...meta,
    cores: { proxy: settings.proxyCore, loadAndBackends: settings.loadCore },
    direct: runs.direct ?? null,
    bareUndici: runs.bareUndici ?? null,
    aviary: runs.aviary ?? null,
    haproxy: runs.haproxy ?? null,
    aviaryHaproxy: runs.aviaryHaproxy ?? null,
    aviaryHttp2: runs.aviaryHttp2 ?? null,
    ...verdict,
    allErrorFree: present.every((r) => r.errorFree),
  });
}
