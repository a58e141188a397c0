/**
 * Aviary's built-in proxy over HTTP/2 (issue 15, part 4): the same CLI, backends and 90/10
 * split as the `aviary` run, with the listener on h2c (`protocol: http2`), loaded by an h2c
 * closed-loop generator on `node:http2` (wrk speaks HTTP/1.1 only).
 *
 * Two entry points:
 * - {@link startAviaryHttp2} and {@link http2Load}: a target and a generator, for a run in the
 *   rotation of main.ts;
 * - {@link runAviaryHttp2Bench}: a self-contained comparison, Aviary over HTTP/2 against
 *   Aviary over HTTP/1.1, both loaded by Node generators on the same core (h2c here, the
 *   undici one for HTTP/1.1) so the generators' cost is alike, in rounds, with medians.
 *
 * Run as a child (`node --import tsx aviary-http2.ts URL SESSIONS STREAMS DURATION_S`), this
 * file is the h2c generator and prints its LoadResult as one JSON line.
 */
import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuTimeMs, hasCommand, startPinned, stopAll, type Placement } from './child-processes.js';
import { startAviary, startBackends, type Backends, type BenchTarget } from './bench-targets.js';
import { loadResultOf, type LoadOptions, type LoadResult } from './load-result.js';
import { undiciLoad } from './undici-load.js';

const REPO_DIR = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

/** `sessions` h2c connections with `streams` closed loops each, for `durationS` seconds. */
async function generate(
  url: string,
  sessions: number,
  streams: number,
  durationS: number,
): Promise<LoadResult> {
  const target = new URL(url);
  const opened: ClientHttp2Session[] = [];
  for (let i = 0; i < sessions; i++) opened.push(connect(target.origin));
  const latencies: number[] = [];
  let non2xx3xx = 0;
  let failures = 0;
  const stopAt = Date.now() + durationS * 1000;
  const one = (session: ClientHttp2Session): Promise<void> =>
    new Promise((resolve) => {
      const started = performance.now();
      const stream = session.request({ ':path': target.pathname + target.search, ':method': 'GET' });
      let status = 0;
      stream.once('response', (headers) => (status = Number(headers[constants.HTTP2_HEADER_STATUS])));
      stream.on('data', () => undefined);
      stream.once('end', () => {
        latencies.push(performance.now() - started);
        if (status < 200 || status >= 400) non2xx3xx++;
        resolve();
      });
      stream.once('error', () => {
        failures++;
        resolve();
      });
    });
  const loop = async (session: ClientHttp2Session): Promise<void> => {
    while (Date.now() < stopAt) await one(session);
  };
  const startedAt = performance.now();
  await Promise.all(opened.flatMap((s) => Array.from({ length: streams }, () => loop(s))));
  const elapsed = (performance.now() - startedAt) / 1000;
  opened.forEach((s) => s.close());
  return loadResultOf(latencies, elapsed, non2xx3xx, failures);
}

/**
 * The h2c closed-loop generator, run as a pinned child. `options.connections` concurrent
 * streams are spread over `sessions` connections (default 8; 64 streams → 8 per session).
 */
export const http2Load = {
  kind: 'h2c' as const,
  async run(options: LoadOptions, signal: AbortSignal, sessions = 8): Promise<LoadResult> {
    const streams = Math.max(1, Math.round(options.connections / sessions));
    const proc = startPinned('h2c load', options.placement, process.execPath, [
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      options.url,
      String(sessions),
      String(streams),
      String(options.durationSeconds),
    ]);
    const onAbort = (): void => void proc.stop();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const [line] = await proc.waitForLine(/^\{.*\}$/, (options.durationSeconds + 30) * 1000);
      return JSON.parse(line) as LoadResult;
    } finally {
      signal.removeEventListener('abort', onAbort);
      await proc.stop();
    }
  },
};

/** The CLI to run: the built one by default, or e.g. `src/cli/main.ts` with `--import tsx`. */
export interface AviaryCli {
  readonly cli?: string;
  readonly nodeArgs?: readonly string[];
}

/** Aviary as users run it (`aviary proxy --config FILE`), its listener on h2c, the same 90/10 split. */
export function startAviaryHttp2(
  backends: Backends,
  placement: Placement,
  connections: number,
  dir: string,
  { cli = join(REPO_DIR, 'bin', 'aviary.js'), nodeArgs = [] }: AviaryCli = {},
): Promise<BenchTarget> {
  return startAviary(backends, placement, connections, dir, nodeArgs, cli, 'http2');
}

/** One measured window of one protocol. */
export interface Http2BenchRun {
  readonly rps: number;
  readonly p99Ms: number;
  /** CPU time of the proxy process per request, in µs (undefined when /proc is not readable). */
  readonly cpuUsPerRequest: number | undefined;
  readonly errors: number;
}

/** Options of {@link runAviaryHttp2Bench}; defaults in brackets. */
export interface Http2BenchOptions extends AviaryCli {
  /** Rounds, each loading both protocols once in alternating order [5]. */
  readonly rounds?: number;
  /** Measured seconds per window [5]. */
  readonly durationSeconds?: number;
  /** Concurrent requests: HTTP/1.1 connections, or h2c streams over 8 sessions [64]. */
  readonly connections?: number;
  readonly proxyPlacement?: Placement;
  readonly loadPlacement?: Placement;
}

/** Per-round figures and medians of {@link runAviaryHttp2Bench}. */
export interface Http2BenchResult {
  readonly rounds: readonly { readonly http1: Http2BenchRun; readonly http2: Http2BenchRun }[];
  /** Medians over rounds: rps of each, and HTTP/2 / HTTP/1.1 within each round. */
  readonly median: {
    readonly http1Rps: number;
    readonly http2Rps: number;
    readonly rpsRatio: number;
    readonly http1CpuUsPerRequest: number | undefined;
    readonly http2CpuUsPerRequest: number | undefined;
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function measure(
  target: BenchTarget,
  load: (options: LoadOptions, signal: AbortSignal) => Promise<LoadResult>,
  options: LoadOptions,
): Promise<Http2BenchRun> {
  const before = target.pid === undefined ? undefined : cpuTimeMs(target.pid);
  const result = await load(options, AbortSignal.timeout((options.durationSeconds + 60) * 1000));
  const after = target.pid === undefined ? undefined : cpuTimeMs(target.pid);
  const cpu = before !== undefined && after !== undefined && result.requests > 0 ? after - before : undefined;
  const s = result.socketErrors;
  return {
    rps: result.rps,
    p99Ms: result.p99Ms,
    cpuUsPerRequest: cpu === undefined ? undefined : (cpu * 1000) / result.requests,
    errors: result.non2xx3xx + s.connect + s.read + s.write + s.timeout,
  };
}

/**
 * Aviary over HTTP/2 (h2c listener, HTTP/1.1 backends) against Aviary over HTTP/1.1, on
 * loopback; see the module header. Starts and stops its own processes and temporary
 * directory.
 */
export async function runAviaryHttp2Bench(options: Http2BenchOptions = {}): Promise<Http2BenchResult> {
  const rounds = options.rounds ?? 5;
  const durationSeconds = options.durationSeconds ?? 5;
  const connections = options.connections ?? 64;
  const proxyPlacement = options.proxyPlacement ?? { core: 0, nice: 0 };
  const loadPlacement = options.loadPlacement ?? { core: 1, nice: 0 };
  const cli = { ...(options.cli ? { cli: options.cli } : {}), nodeArgs: options.nodeArgs ?? [] };
  const dir = await mkdtemp(join(tmpdir(), 'aviary-bench-h2-'));
  try {
    const backends = await startBackends(hasCommand('haproxy') ? 'haproxy' : 'node', loadPlacement, dir);
    const http1 = await startAviary(backends, proxyPlacement, connections, dir, cli.nodeArgs, cli.cli);
    const http2 = await startAviaryHttp2(backends, proxyPlacement, connections, dir, cli);
    const load = (target: BenchTarget, seconds: number): LoadOptions => ({
      url: target.url,
      connections,
      durationSeconds: seconds,
      placement: loadPlacement,
    });
    const runHttp1 = (seconds: number) =>
      measure(http1, (o, s) => undiciLoad.run(o, s), load(http1, seconds));
    const runHttp2 = (seconds: number) => measure(http2, (o, s) => http2Load.run(o, s), load(http2, seconds));
    // Priming (JIT) of both, discarded.
    await runHttp1(Math.min(2, durationSeconds));
    await runHttp2(Math.min(2, durationSeconds));
    const results: { http1: Http2BenchRun; http2: Http2BenchRun }[] = [];
    for (let round = 0; round < rounds; round++) {
      const first = round % 2 === 0 ? await runHttp1(durationSeconds) : await runHttp2(durationSeconds);
      const second = round % 2 === 0 ? await runHttp2(durationSeconds) : await runHttp1(durationSeconds);
      results.push(round % 2 === 0 ? { http1: first, http2: second } : { http1: second, http2: first });
    }
    const cpu = (runs: readonly Http2BenchRun[]) =>
      runs.every((r) => r.cpuUsPerRequest !== undefined)
        ? median(runs.map((r) => r.cpuUsPerRequest!))
        : undefined;
    return {
      rounds: results,
      median: {
        http1Rps: median(results.map((r) => r.http1.rps)),
        http2Rps: median(results.map((r) => r.http2.rps)),
        rpsRatio: median(results.map((r) => r.http2.rps / r.http1.rps)),
        http1CpuUsPerRequest: cpu(results.map((r) => r.http1)),
        http2CpuUsPerRequest: cpu(results.map((r) => r.http2)),
      },
    };
  } finally {
    await stopAll();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [url, sessions, streams, duration] = process.argv.slice(2);
  if (!url) throw new Error('usage: aviary-http2.ts URL SESSIONS STREAMS DURATION_S');
  const result = await generate(url, Number(sessions ?? 8), Number(streams ?? 8), Number(duration ?? 5));
  console.log(JSON.stringify(result));
}
