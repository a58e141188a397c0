/**
 * `npm run bench:proxy`: Aviary's proxy against a bare undici proxy and HAProxy, Aviary's
 * HAProxy router against plain HAProxy, and Aviary's proxy on an h2c listener, on loopback, at
 * 64 connections (issues 2 and 15; the method is in bench/proxy/README.md).
 *
 * Layout: the proxy under test runs alone on core 0 (BENCH_PROXY_CORE); the load generator
 * and the static backends share core 1 (BENCH_LOAD_CORE). The backends are HAProxy answering
 * a fixed body itself when HAProxy is installed (a few µs per request, so core 1 keeps up
 * with HAProxy as the proxy under test), else two `node:http` processes. "direct" therefore
 * measures core 1's own ceiling: generator plus backends with no proxy in between.
 *
 * Every proxy runs for the whole bench. After a discarded priming load of each (JIT), the
 * bench does BENCH_ROUNDS rounds; a round loads each proxy for one short window (a discarded
 * warm-up, then the measured seconds, with the proxy's CPU time read from /proc), in an
 * order rotated from round to round. Ratios are taken within a round and the verdict is
 * their median: this shared machine changes speed by up to 2x from one minute to the next,
 * and windows seconds apart see the same machine.
 * Every child is in its own process group and is killed on exit, failure or signal; a
 * watchdog bounds the whole bench. The last line printed is one JSON object.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  coreTimesMs,
  cpuTimeMs,
  hasCommand,
  killAllNow,
  stopAll,
  type Placement,
} from './child-processes.js';
import { formatRun, judgeRounds, runFigures, summaryJson, type RunFigures } from './bench-report.js';
import { readSettings, type BenchSettings, type RunName } from './bench-settings.js';
import {
  startAviary,
  startAviaryHaproxy,
  startBackends,
  startBareProxy,
  startHaproxy,
  type BenchTarget,
} from './bench-targets.js';
import { errorCount, type LoadGenerator, type LoadResult } from './load-result.js';
import { undiciLoad } from './undici-load.js';
import { http2Load, startAviaryHttp2 } from './aviary-http2.js';
import { wrkLoad } from './wrk-load.js';

const LOAD_GENERATORS: Record<LoadGenerator['kind'], LoadGenerator> = { wrk: wrkLoad, undici: undiciLoad };

function chooseLoad(settings: BenchSettings): LoadGenerator {
  if (settings.load !== 'auto') return LOAD_GENERATORS[settings.load];
  if (hasCommand('wrk')) return wrkLoad;
  console.log('bench: wrk is not installed; falling back to the undici load generator, which saturates');
  console.log('bench: its core before fast proxies do (HAProxy figures will be understated)');
  return undiciLoad;
}

function loadPlacement(settings: BenchSettings): Placement {
  return { core: settings.loadCore, nice: settings.nice };
}

function proxyPlacement(settings: BenchSettings): Placement {
  return { core: settings.proxyCore, nice: settings.nice };
}

/** CPU time of the thing under test: its process and any helper processes (HAProxy's worker). */
function targetCpuMs(target: BenchTarget): number | undefined {
  if (target.pid === undefined) return undefined;
  let total = 0;
  for (const pid of [target.pid, ...(target.morePids ?? [])]) {
    const ms = cpuTimeMs(pid);
    if (ms === undefined) return undefined;
    total += ms;
  }
  return total;
}

interface Sample {
  readonly result: LoadResult;
  readonly figures: RunFigures;
}

async function measure(
  settings: BenchSettings,
  load: Pick<LoadGenerator, 'run'>,
  target: BenchTarget,
  signal: AbortSignal,
): Promise<Sample> {
  const base = { url: target.url, connections: settings.connections, placement: loadPlacement(settings) };
  if (settings.warmupSeconds > 0)
    await load.run({ ...base, durationSeconds: settings.warmupSeconds }, signal);
  const cpuBefore = targetCpuMs(target);
  const coreBefore = coreTimesMs(settings.proxyCore);
  const loadCoreBefore = coreTimesMs(settings.loadCore);
  const started = performance.now();
  const result = await load.run({ ...base, durationSeconds: settings.durationSeconds }, signal);
  const windowMs = performance.now() - started;
  const cpuAfter = targetCpuMs(target);
  const coreAfter = coreTimesMs(settings.proxyCore);
  const loadCoreAfter = coreTimesMs(settings.loadCore);
  const delta = (a: number | undefined, b: number | undefined): number | undefined =>
    a === undefined || b === undefined ? undefined : b - a;
  const figures = runFigures(
    result,
    {
      proxyMs: delta(cpuBefore, cpuAfter),
      coreBusyMs: delta(coreBefore?.busy, coreAfter?.busy),
      coreStealMs: delta(coreBefore?.steal, coreAfter?.steal),
      loadCoreBusyMs: delta(loadCoreBefore?.busy, loadCoreAfter?.busy),
      windowMs,
    },
    [],
  );
  return { result, figures };
}

/** `names` rotated left by `by`: round r starts with a different run, so no run always follows the same one. */
function rotated<T>(names: readonly T[], by: number): T[] {
  const k = by % names.length;
  return [...names.slice(k), ...names.slice(0, k)];
}

/** The sample with the median rps, carrying every round's rps. */
function medianRound(samples: readonly Sample[]): RunFigures {
  const sorted = [...samples].sort((a, b) => a.figures.rps - b.figures.rps);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const anyErrors = samples.some((s) => errorCount(s.result) > 0);
  return {
    ...median.figures,
    errorFree: !anyErrors,
    roundsRps: samples.length > 1 ? samples.map((s) => s.figures.rps) : [],
  };
}

async function loadAverage(): Promise<number> {
  try {
    return Number((await readFile('/proc/loadavg', 'utf8')).split(' ')[0]);
  } catch {
    return -1;
  }
}

async function main(): Promise<void> {
  const settings = readSettings();
  const load = chooseLoad(settings);
  const haproxyInstalled = hasCommand('haproxy');
  const backendKind =
    settings.backend === 'auto' ? (haproxyInstalled ? 'haproxy' : 'node') : settings.backend;
  const pinned = hasCommand('taskset');
  const loadAverage1mAtStart = await loadAverage();
  console.log(
    `bench: ${settings.connections} connections, ${settings.warmupSeconds} s warm-up + ${settings.durationSeconds} s per run, ${settings.rounds} round(s); load generator ${load.kind}; backends ${backendKind}`,
  );
  console.log(
    pinned
      ? `bench: proxy under test pinned to core ${settings.proxyCore}; load generator and backends to core ${settings.loadCore}`
      : 'bench: taskset is not installed; nothing is pinned and figures mix proxy and load costs',
  );
  if (settings.nice !== 0) console.log(`bench: every child runs at nice ${settings.nice}`);
  if (loadAverage1mAtStart > 0.5)
    console.log(
      `bench: load average ${loadAverage1mAtStart} at start; other work on this machine skews the figures`,
    );
  if (!haproxyInstalled) console.log('bench: haproxy is not installed; the HAProxy run is skipped');

  const dir = await mkdtemp(join(tmpdir(), 'aviary-bench-'));
  const abort = new AbortController();
  const perRunSeconds = settings.warmupSeconds + settings.durationSeconds + 20 + settings.primeSeconds;
  const watchdog = setTimeout(
    () => {
      console.error('bench: watchdog expired; killing every child');
      abort.abort();
      killAllNow();
      process.exit(1);
    },
    (settings.rounds * settings.only.length * perRunSeconds + 60) * 1000,
  );
  watchdog.unref();
  try {
    const backends = await startBackends(backendKind, loadPlacement(settings), dir);
    const wanted = new Set(settings.only);
    const targets: Partial<Record<RunName, BenchTarget>> = {};
    if (wanted.has('direct')) targets.direct = backends;
    const upstream = settings.upstreamConnections;
    if (wanted.has('bareUndici'))
      targets.bareUndici = await startBareProxy(backends, proxyPlacement(settings), upstream);
    if (wanted.has('aviary'))
      targets.aviary = await startAviary(
        backends,
        proxyPlacement(settings),
        upstream,
        dir,
        settings.aviaryNodeArgs,
      );
    if (wanted.has('haproxy') && haproxyInstalled)
      targets.haproxy = await startHaproxy(backends, proxyPlacement(settings), upstream, dir);
    if (wanted.has('aviaryHttp2'))
      targets.aviaryHttp2 = await startAviaryHttp2(backends, proxyPlacement(settings), upstream, dir, {
        nodeArgs: settings.aviaryNodeArgs,
      });
    if (wanted.has('aviaryHaproxy') && haproxyInstalled)
      targets.aviaryHaproxy = await startAviaryHaproxy(backends, proxyPlacement(settings));

    if (settings.primeSeconds > 0) {
      for (const name of settings.only) {
        const target = targets[name];
        if (!target) continue;
        await load.run(
          {
            url: target.url,
            connections: settings.connections,
            placement: loadPlacement(settings),
            durationSeconds: settings.primeSeconds,
          },
          abort.signal,
        );
      }
    }

    const samples: Partial<Record<RunName, Sample[]>> = {};
    const rounds: Partial<Record<RunName, RunFigures>>[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      const figures: Partial<Record<RunName, RunFigures>> = {};
      for (const name of rotated(settings.only, round - 1)) {
        const target = targets[name];
        if (!target) continue;
        // The h2c listener needs an HTTP/2 client: the h2c generator of aviary-http2.ts.
        const generator = name === 'aviaryHttp2' ? http2Load : load;
        const sample = await measure(settings, generator, target, abort.signal);
        (samples[name] ??= []).push(sample);
        figures[name] = sample.figures;
        const prefix = settings.rounds > 1 ? `round ${round}: ` : '';
        console.log(prefix + formatRun(name, sample.figures));
      }
      rounds.push(figures);
    }

    const runs: Partial<Record<RunName, RunFigures | null>> = {};
    for (const name of settings.only) {
      const list = samples[name];
      runs[name] = list ? medianRound(list) : null;
    }
    if (settings.rounds > 1) {
      console.log('median rounds of each run (the ratios below are medians of ratios within rounds):');
      for (const name of settings.only) console.log(formatRun(name, runs[name]));
    }
    const present = Object.fromEntries(
      Object.entries(runs).filter((e): e is [string, RunFigures] => e[1] !== null && e[1] !== undefined),
    );
    const verdict = judgeRounds(rounds);
    const { ratios, targets: met, perRound } = verdict;
    const show = (v: boolean | null): string => (v === null ? 'n/a' : v ? 'met' : 'MISSED');
    console.log(
      `aviary/bare rps ${ratios.aviaryOverBareRps ?? 'n/a'} (target >= 0.9: ${show(met.aviaryAtLeast0_9xBare)}; rounds ${perRound.aviaryOverBareRps.join(' ')})`,
    );
    console.log(
      `aviary/haproxy rps ${ratios.aviaryOverHaproxyRps ?? 'n/a'} (target >= 0.35: ${show(met.aviaryAtLeast0_35xHaproxy)}; rounds ${perRound.aviaryOverHaproxyRps.join(' ')})`,
    );
    console.log(
      `aviary p99 / (2 x haproxy p99 + 2 ms = ${ratios.p99BoundMs ?? 'n/a'} ms) ${ratios.aviaryP99OverHaproxyP99Bound ?? 'n/a'} (target <= 1: ${show(met.aviaryP99AtMost2xHaproxyPlus2ms)}; rounds ${perRound.aviaryP99OverHaproxyP99Bound.join(' ')})`,
    );
    console.log(
      `aviary haproxy router/haproxy rps ${ratios.aviaryHaproxyOverHaproxyRps ?? 'n/a'} (target >= 0.9: ${show(met.aviaryHaproxyAtLeast0_9xHaproxy)}; rounds ${perRound.aviaryHaproxyOverHaproxyRps.join(' ')})`,
    );
    console.log(
      `aviary haproxy router p99 - haproxy p99 ${ratios.aviaryHaproxyP99MinusHaproxyP99Ms ?? 'n/a'} ms (target <= 1 ms: ${show(met.aviaryHaproxyP99AtMostHaproxyPlus1ms)}; rounds ${perRound.aviaryHaproxyP99MinusHaproxyP99Ms.join(' ')})`,
    );
    console.log(
      `aviary h2c/aviary HTTP/1.1 rps, informational ${ratios.aviaryHttp2OverAviaryRps ?? 'n/a'} (h2c loaded by a Node h2c generator, HTTP/1.1 by ${load.kind}); CPU-bound ${ratios.aviaryHttp2OverAviaryCpuBoundRps ?? 'n/a'}`,
    );
    console.log(
      `CPU-bound rps (1e6 / CPU us per request), informational: aviary haproxy router/haproxy ${ratios.aviaryHaproxyOverHaproxyCpuBoundRps ?? 'n/a'},`,
    );
    console.log(
      `CPU-bound rps (1e6 / CPU us per request), informational: aviary/bare ${ratios.aviaryOverBareCpuBoundRps ?? 'n/a'}, aviary/haproxy ${ratios.aviaryOverHaproxyCpuBoundRps ?? 'n/a'}`,
    );
    if (Object.values(present).some((r) => !r.errorFree))
      console.log('bench: WARNING: some runs had errors; their figures are not valid');
    console.log(
      summaryJson(
        settings,
        { loadGenerator: load.kind, backend: backendKind, pinned, loadAverage1mAtStart },
        runs,
        verdict,
      ),
    );
  } finally {
    clearTimeout(watchdog);
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  }
}

process.on('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllNow();
    process.exit(130);
  });
}

main().catch((err: unknown) => {
  console.error(`bench: failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
