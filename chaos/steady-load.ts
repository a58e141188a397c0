/**
 * The steady load of the chaos scenarios: a few clients, each sending GET requests one after
 * another over keep-alive connections through Aviary's router, recording the status, the
 * version that answered and the latency of each. A request that gets no answer within
 * `requestTimeoutMs` counts as failed (a hung client). Loopback only.
 */
import { Pool } from 'undici';
import type { RunContext } from './scenario.js';

/** One client of the load: a tag to count it by, and headers it sends (an A/B header, say). */
export interface LoadClient {
  readonly tag: string;
  readonly headers?: Record<string, string>;
}

/** One request. */
export interface LoadSample {
  readonly tag: string;
  readonly startedAt: number;
  readonly latencyMs: number;
  /** HTTP status; 0 when there was no answer. */
  readonly status: number;
  readonly version: string | null;
  readonly error?: string;
}

/** Options of {@link SteadyLoad.start}. */
export interface LoadOptions {
  readonly path: string;
  readonly clients?: readonly LoadClient[];
  /** Pause between one client's requests; default 5 ms. */
  readonly pauseMs?: number;
  /** No answer within this is a failure; default 10 s. */
  readonly requestTimeoutMs?: number;
}

/** A load running against one origin until {@link SteadyLoad.stop}. */
export class SteadyLoad {
  readonly samples: LoadSample[] = [];
  readonly #pool: Pool;
  readonly #done: Promise<void>;
  #stopped = false;
  #closed: Promise<void> | undefined;

  private constructor(origin: string, options: LoadOptions) {
    const clients = options.clients ?? [{ tag: 'plain' }, { tag: 'plain' }];
    const timeout = options.requestTimeoutMs ?? 10_000;
    this.#pool = new Pool(origin, {
      connections: clients.length,
      keepAliveTimeout: 30_000,
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    this.#done = Promise.all(clients.map((c) => this.#client(options.path, c, options.pauseMs ?? 5))).then(
      () => undefined,
    );
  }

  /** Starts the load on `origin` (the router's URL). */
  static start(origin: string, options: LoadOptions): SteadyLoad {
    return new SteadyLoad(origin, options);
  }

  async #client(path: string, client: LoadClient, pauseMs: number): Promise<void> {
    while (!this.#stopped) {
      const startedAt = Date.now();
      try {
        const response = await this.#pool.request({
          path,
          method: 'GET',
          ...(client.headers ? { headers: client.headers } : {}),
        });
        const text = await response.body.text();
        this.samples.push({
          tag: client.tag,
          startedAt,
          latencyMs: Date.now() - startedAt,
          status: response.statusCode,
          version: versionOf(text),
        });
      } catch (error) {
        const code = (error as { code?: string }).code ?? (error as Error).message;
        this.samples.push({
          tag: client.tag,
          startedAt,
          latencyMs: Date.now() - startedAt,
          status: 0,
          version: null,
          error: code,
        });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }

  /** Requests that got no 2xx answer. */
  failures(): LoadSample[] {
    return this.samples.filter((s) => s.status < 200 || s.status >= 300);
  }

  /** Samples started at or after `from` (epoch ms), optionally of one tag. */
  since(from: number, tag?: string): LoadSample[] {
    return this.samples.filter((s) => s.startedAt >= from && (tag === undefined || s.tag === tag));
  }

  /** Resolves once `count` more samples than now have arrived (or `signal` aborts). */
  async more(count: number, signal: AbortSignal): Promise<void> {
    const target = this.samples.length + count;
    while (this.samples.length < target && !signal.aborted && !this.#stopped)
      await new Promise((resolve) => setTimeout(resolve, 20));
  }

  /** Stops sending, waits for the requests in flight and closes the connections. Idempotent. */
  stop(): Promise<void> {
    this.#stopped = true;
    this.#closed ??= this.#done.then(() => this.#pool.close());
    return this.#closed;
  }
}

/** Counts of samples by version, e.g. `{"1": 120, "2": 14}`. */
export function countByVersion(samples: readonly LoadSample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of samples) counts[String(s.version)] = (counts[String(s.version)] ?? 0) + 1;
  return counts;
}

/**
 * Records a run's `requests` and `failedRequests` figures and checks that no request failed,
 * naming the first failures when some did.
 */
export function checkNoRequestFailed(context: Pick<RunContext, 'check' | 'figure'>, load: SteadyLoad): void {
  const failed = load.failures();
  context.figure('requests', load.samples.length);
  context.figure('failedRequests', failed.length);
  context.check(
    'no request fails',
    failed.length === 0,
    `${failed.length} failed: ${describeFailures(failed)}`,
  );
}

/** A short description of the first few failures, for a violation message. */
export function describeFailures(failed: readonly LoadSample[]): string {
  return failed
    .slice(0, 5)
    .map(
      (s) =>
        `${new Date(s.startedAt).toISOString()} ${s.tag} status ${s.status}${s.error ? ` ${s.error}` : ''}`,
    )
    .join('; ');
}

function versionOf(text: string): string | null {
  try {
    const body = JSON.parse(text) as { version?: unknown };
    return typeof body.version === 'string' ? body.version : null;
  } catch {
    return null;
  }
}
