/**
 * A real Prometheus (the Debian package) for tests: on loopback, with a temporary TSDB,
 * scraping `target` every second as `job`; resolves once `readyQuery` has an answer (the
 * first scraped sample is queryable only after a few seconds: REFERENCE §7).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrometheusProvider } from '../../src/metrics/prometheus-provider.js';
import { freePort } from '../cluster/processes.js';

export const PROMETHEUS = '/usr/bin/prometheus';

/** Why Prometheus cannot run here, or undefined. */
export function prometheusUnavailable(): string | undefined {
  return existsSync(PROMETHEUS)
    ? undefined
    : `${PROMETHEUS} not found: install the Debian package "prometheus"`;
}

/** A started Prometheus. */
export interface TestPrometheus {
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts Prometheus scraping `target` (host:port) every second; see the module comment. */
export async function startPrometheus(
  target: string,
  job: string,
  readyQuery: string,
): Promise<TestPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'aviary-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  await writeFile(
    config,
    [
      'global: {scrape_interval: 1s, evaluation_interval: 1s}',
      'scrape_configs:',
      `  - job_name: ${job}`,
      `    static_configs: [{targets: ["${target}"]}]`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  const provider = new PrometheusProvider({ address: url, timeoutMs: 2_000 });
  const never = new AbortController().signal;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const answered = await provider.runQuery(readyQuery, never).catch(() => undefined);
    if (answered) return { url, stop };
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(
        `prometheus: no answer to ${readyQuery} from ${target} within 30 s (stderr: ${stderr})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
