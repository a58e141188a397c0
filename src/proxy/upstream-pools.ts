/**
 * Keep-alive connection pools to upstream endpoints, shared across configuration
 * generations so a weight change never drops a warm connection. A pool that no
 * configuration uses any more is closed after a grace period, which lets requests and
 * retries still holding the old configuration finish on it.
 */
import { Pool } from 'undici';

interface Entry {
  pool: Pool;
  /** Generation that last referenced this pool. */
  lastGeneration: number;
  connections: number;
}

/** Registry of undici pools keyed by origin. */
export class UpstreamPools {
  private readonly entries = new Map<string, Entry>();
  private readonly closing = new Set<Promise<void>>();

  constructor(private readonly options: { keepAliveTimeoutMs?: number; connectTimeoutMs?: number } = {}) {}

  /** The pool of `origin`, created on first use, marked as used by `generation`. */
  acquire(origin: string, connections: number, generation: number): Pool {
    const existing = this.entries.get(origin);
    if (existing && existing.connections === connections) {
      existing.lastGeneration = generation;
      return existing.pool;
    }
    if (existing) this.retire(origin, existing);
    const pool = new Pool(origin, {
      connections,
      pipelining: 1,
      keepAliveTimeout: this.options.keepAliveTimeoutMs ?? 4_000,
      connectTimeout: this.options.connectTimeoutMs ?? 5_000,
      // Timeouts are applied per request by the forwarder; the pool defaults would cut long
      // streams at 300 s regardless of the route's settings.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    this.entries.set(origin, { pool, lastGeneration: generation, connections });
    return pool;
  }

  /** Closes, after `graceMs`, every pool not used by `generation`. */
  releaseUnused(generation: number, graceMs: number): void {
    for (const [origin, entry] of this.entries) {
      if (entry.lastGeneration < generation) this.retire(origin, entry, graceMs);
    }
  }

  private retire(origin: string, entry: Entry, graceMs = 0): void {
    this.entries.delete(origin);
    const closed = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        entry.pool.close().then(resolve, resolve);
      }, graceMs);
      timer.unref();
    });
    this.closing.add(closed);
    void closed.then(() => this.closing.delete(closed));
  }

  /** Closes every pool, waiting for requests in flight; destroys what is left after `timeoutMs`. */
  async closeAll(timeoutMs: number): Promise<void> {
    const pools = [...this.entries.values()].map((e) => e.pool);
    this.entries.clear();
    const graceful = Promise.all(pools.map((p) => p.close()));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([graceful.then(() => 'closed' as const), deadline]);
    clearTimeout(timer);
    if (outcome === 'timeout') await Promise.all(pools.map((p) => p.destroy()));
  }
}
