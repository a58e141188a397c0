/**
 * The metrics backend of the chaos scenarios: a real Prometheus (the Debian package) in a
 * run's scope, scraping `aviary up`'s control API every second, that a scenario kills with
 * SIGKILL and starts again on the same port and the same TSDB, as a crashed and restarted
 * Prometheus comes back. Loopback only.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { ChaosProcess, RunScope } from './run-scope.js';
import { waitUntil } from './waiting.js';

/** Where the Debian package puts Prometheus. */
export const PROMETHEUS_BIN = '/usr/bin/prometheus';

/** Why the metrics-backend scenarios cannot run here, or undefined. */
export function prometheusMissing(): string | undefined {
  return existsSync(PROMETHEUS_BIN)
    ? undefined
    : `${PROMETHEUS_BIN} not found: install the Debian package "prometheus"`;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port for Prometheus');
  return address.port;
}

/** A Prometheus that can be killed and started again at the same address. */
export class PrometheusBackend {
  /** Base URL, e.g. `http://127.0.0.1:9090`: what `metricsServer` is set to. */
  readonly url: string;
  readonly #scope: RunScope;
  readonly #args: readonly string[];
  #process: ChaosProcess | undefined;

  private constructor(scope: RunScope, port: number, args: readonly string[]) {
    this.#scope = scope;
    this.url = `http://127.0.0.1:${port}`;
    this.#args = args;
  }

  /** Writes the config (scraping `target`, host:port, as job `aviary`) and picks the port; not started yet. */
  static async prepare(scope: RunScope, target: string): Promise<PrometheusBackend> {
    const dir = await scope.tempDir('aviary-chaos-prometheus-');
    const config = join(dir, 'prometheus.yml');
    await writeFile(
      config,
      [
        'global: {scrape_interval: 1s, evaluation_interval: 1s}',
        'scrape_configs:',
        '  - job_name: aviary',
        `    static_configs: [{targets: ["${target}"]}]`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    return new PrometheusBackend(scope, port, [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ]);
  }

  /** True while the process runs. */
  get running(): boolean {
    return this.#process !== undefined && !this.#process.hasExited();
  }

  /** Starts Prometheus and waits until `readyQuery` has an answer (a scraped sample). */
  async start(readyQuery: string, signal: AbortSignal): Promise<void> {
    const started = this.#scope.spawn(PROMETHEUS_BIN, this.#args);
    this.#process = started;
    await waitUntil(
      `Prometheus to answer ${readyQuery}`,
      async () => {
        if (started.hasExited()) throw new Error(`prometheus exited:\n${started.output()}`);
        return (await this.answers(readyQuery, signal)) ? true : undefined;
      },
      signal,
      started.output,
    );
  }

  /** SIGKILL, as a crash; resolves once the process is gone. */
  async kill(): Promise<void> {
    const running = this.#process;
    if (running === undefined || running.hasExited()) return;
    process.kill(running.pid, 'SIGKILL');
    await running.exited;
  }

  /** Whether an instant query has a non-empty answer now. */
  async answers(query: string, signal: AbortSignal): Promise<boolean> {
    try {
      const response = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(query)}`, {
        signal,
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        return false;
      }
      const body = (await response.json()) as { data?: { result?: unknown[] } };
      return (body.data?.result?.length ?? 0) > 0;
    } catch {
      return false;
    }
  }
}
