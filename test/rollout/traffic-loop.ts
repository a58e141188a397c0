/**
 * A bounded traffic generator for the rollout integration suites: keep-alive clients sending
 * requests through the router one after another, recording which version answered each one,
 * so a suite can count versions and failures over any window of a rollout.
 */
import { Pool } from 'undici';
import { APP_PATH } from './catalog-config.js';
import { waitFor } from './deadline-waits.js';
import { onCleanup } from './test-cleanup.js';

/** One request of the traffic generator. */
export interface Sample {
  /** Which client sent it (see {@link TrafficClient.tag}). */
  readonly tag: string;
  readonly startedAt: number;
  readonly endedAt: number;
  /** HTTP status, 0 when the request failed without an answer. */
  readonly status: number;
  /** `version` of the JSON answer, null when there was none. */
  readonly version: string | null;
  readonly error?: string;
}

/** One concurrent client of a {@link TrafficLoop}. */
export interface TrafficClient {
  readonly tag: string;
  readonly headers?: Record<string, string>;
}

/**
 * A bounded traffic generator: each client sends GET requests one after another over a
 * keep-alive connection, pausing `pauseMs` between them, until `stop()` or `maxMs`.
 */
export class TrafficLoop {
  readonly samples: Sample[] = [];
  readonly #pool: Pool;
  readonly #done: Promise<void>;
  #stopped = false;
  #closed: Promise<void> | undefined;

  private constructor(
    origin: string,
    path: string,
    clients: readonly TrafficClient[],
    pauseMs: number,
    maxMs: number,
  ) {
    this.#pool = new Pool(origin, { connections: clients.length, keepAliveTimeout: 30_000 });
    const until = Date.now() + maxMs;
    this.#done = Promise.all(clients.map((client) => this.#run(path, client, pauseMs, until))).then(
      () => undefined,
    );
  }

  /** Starts the loop against `origin` (e.g. `runtime.routerUrl`); stopped after the test at the latest. */
  static start(
    origin: string,
    options: { path?: string; clients?: readonly TrafficClient[]; pauseMs?: number; maxMs?: number } = {},
  ): TrafficLoop {
    const loop = new TrafficLoop(
      origin,
      options.path ?? APP_PATH,
      options.clients ?? [{ tag: 'plain' }, { tag: 'plain' }],
      options.pauseMs ?? 5,
      options.maxMs ?? 100_000,
    );
    onCleanup(() => loop.stop());
    return loop;
  }

  async #run(path: string, client: TrafficClient, pauseMs: number, until: number): Promise<void> {
    while (!this.#stopped && Date.now() < until) {
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
          endedAt: Date.now(),
          status: response.statusCode,
          version: versionOf(text),
        });
      } catch (error) {
        const code = (error as { code?: string }).code ?? (error as Error).message;
        this.samples.push({
          tag: client.tag,
          startedAt,
          endedAt: Date.now(),
          status: 0,
          version: null,
          error: code,
        });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }

  /** Samples that started at or after `from` (ms) and before `to`. */
  between(from: number, to = Infinity, tag?: string): Sample[] {
    return this.samples.filter(
      (s) => s.startedAt >= from && s.startedAt < to && (tag === undefined || s.tag === tag),
    );
  }

  /** Waits until at least `count` more samples than now have arrived. */
  async more(count: number): Promise<void> {
    const target = this.samples.length + count;
    await waitFor(`${count} more requests`, () => (this.samples.length >= target ? true : undefined));
  }

  /** Stops sending and waits for requests in flight. Idempotent. */
  stop(): Promise<void> {
    this.#stopped = true;
    this.#closed ??= this.#done.then(() => this.#pool.close());
    return this.#closed;
  }
}

function versionOf(text: string): string | null {
  try {
    const body = JSON.parse(text) as { version?: unknown };
    return typeof body.version === 'string' ? body.version : null;
  } catch {
    return null;
  }
}

/** Counts samples by version, e.g. `{"1": 120, "2": 14}`. */
export function countByVersion(samples: readonly Sample[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of samples) counts[String(s.version)] = (counts[String(s.version)] ?? 0) + 1;
  return counts;
}

/** Samples that were not a 2xx answer. */
export function failures(samples: readonly Sample[]): Sample[] {
  return samples.filter((s) => s.status < 200 || s.status >= 300);
}
