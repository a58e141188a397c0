/**
 * wrk as the bench's load generator (preferred: written in C, it keeps up with HAProxy on
 * one core where a Node generator saturates first), and the parser of its `--latency`
 * report.
 */
import { startPinned } from './child-processes.js';
import type { LoadGenerator, LoadOptions, LoadResult } from './load-result.js';

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function latencyMs(report: string, percentile: number): number {
  const match = new RegExp(`^\\s*${percentile}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(report);
  if (!match) throw new Error(`wrk report has no ${percentile}% latency line:\n${report}`);
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

/** Parses the report of `wrk --latency` (wrk 4.x). */
export function parseWrkReport(report: string): LoadResult {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(report);
  const total = /^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)/m.exec(report);
  if (!rps || !total) throw new Error(`unexpected wrk report:\n${report}`);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(report);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(report);
  return {
    requests: Number(total[1]),
    durationSeconds: (Number(total[2]) * UNIT_MS[total[3]!]!) / 1000,
    rps: Number(rps[1]),
    p50Ms: latencyMs(report, 50),
    p99Ms: latencyMs(report, 99),
    non2xx3xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: {
      connect: Number(socket?.[1] ?? 0),
      read: Number(socket?.[2] ?? 0),
      write: Number(socket?.[3] ?? 0),
      timeout: Number(socket?.[4] ?? 0),
    },
  };
}

async function runWrk(options: LoadOptions, signal: AbortSignal): Promise<string> {
  // One thread: the generator owns exactly one core. The timeout counts a request as failed
  // after 2 s, well above any healthy p99 here.
  const proc = startPinned('wrk', options.placement, 'wrk', [
    '-t1',
    `-c${options.connections}`,
    `-d${options.durationSeconds}s`,
    '--timeout',
    '2s',
    '--latency',
    options.url,
  ]);
  const onAbort = (): void => void proc.stop();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const code = await new Promise<number | null>((resolve) => proc.child.once('exit', resolve));
    if (code !== 0) throw new Error(`wrk exited with ${String(code)}:\n${proc.output()}`);
    return proc.output();
  } finally {
    signal.removeEventListener('abort', onAbort);
    await proc.stop();
  }
}

/** The wrk load generator. */
export const wrkLoad: LoadGenerator = {
  kind: 'wrk',
  async run(options, signal) {
    return parseWrkReport(await runWrk(options, signal));
  },
};
