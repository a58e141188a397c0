/**
 * Fallback load generator when wrk is not installed: `connections` closed loops, each on its
 * own keep-alive undici Client, for a warm-up and then a measured window. It saturates its
 * own core well before HAProxy does, so figures taken with it understate the fast proxies.
 *
 * Imported, it exports the generator; run as a child
 * (`node --import tsx undici-load.ts URL CONNECTIONS WARMUP_S DURATION_S`) it does the load
 * and prints its LoadResult as one JSON line.
 */
import { fileURLToPath } from 'node:url';
import { Client } from 'undici';
import { startPinned } from './child-processes.js';
import { loadResultOf, type LoadGenerator, type LoadResult } from './load-result.js';

async function generate(
  url: string,
  connections: number,
  warmupS: number,
  durationS: number,
): Promise<LoadResult> {
  const target = new URL(url);
  const clients = Array.from({ length: connections }, () => new Client(target.origin, { pipelining: 1 }));
  const latencies: number[] = [];
  let measuring = false;
  let stopAt = Date.now() + warmupS * 1000;
  let non2xx3xx = 0;
  let socketErrors = 0;
  const loop = async (client: Client): Promise<void> => {
    while (Date.now() < stopAt) {
      const started = performance.now();
      try {
        const res = await client.request({ path: target.pathname + target.search, method: 'GET' });
        await res.body.dump();
        if (!measuring) continue;
        latencies.push(performance.now() - started);
        if (res.statusCode < 200 || res.statusCode >= 400) non2xx3xx++;
      } catch {
        if (measuring) socketErrors++;
      }
    }
  };
  await Promise.all(clients.map(loop));
  measuring = true;
  const startedAt = performance.now();
  stopAt = Date.now() + durationS * 1000;
  await Promise.all(clients.map(loop));
  const elapsed = (performance.now() - startedAt) / 1000;
  await Promise.all(clients.map((c) => c.close()));
  return loadResultOf(latencies, elapsed, non2xx3xx, socketErrors);
}

/** The undici fallback generator, run as a pinned child. */
export const undiciLoad: LoadGenerator = {
  kind: 'undici',
  async run(options, signal) {
    const proc = startPinned('undici-load', options.placement, process.execPath, [
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      options.url,
      String(options.connections),
      '0',
      String(options.durationSeconds),
    ]);
    const onAbort = (): void => void proc.stop();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const limitMs = (options.durationSeconds + 30) * 1000;
      const [line] = await proc.waitForLine(/^\{.*\}$/, limitMs);
      return JSON.parse(line) as LoadResult;
    } finally {
      signal.removeEventListener('abort', onAbort);
      await proc.stop();
    }
  },
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [url, connections, warmup, duration] = process.argv.slice(2);
  if (!url) throw new Error('usage: undici-load.ts URL CONNECTIONS WARMUP_S DURATION_S');
  const result = await generate(url, Number(connections ?? 64), Number(warmup ?? 1), Number(duration ?? 5));
  console.log(JSON.stringify(result));
}
