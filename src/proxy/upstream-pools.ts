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

/**
 * Registry of undici pools keyed by origin and connection limit. Two versions may share an
 * origin with different limits; each gets its own pool, and a pool whose limit no
 * configuration uses any more is retired with the same grace as an unused origin.
 */
export class UpstreamPools {
  private readonly entries = new Map<string, Entry>();
  private readonly closing = new Set<Promise<void>>();

  constructor(private readonly options: { keepAliveTimeoutMs?: number; connectTimeoutMs?: number } = {}) {}

  /** The pool of `origin` with `connections`, created on first use, marked as used by `generation`. */
  acquire(origin: string, connections: number, generation: number): Pool {
    const key = `${connections} ${origin}`;
    const existing = this.entries.get(key);
    if (existing) {
      existing.lastGeneration = generation;
      return existing.pool;
    }
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
    this.entries.set(key, { pool, lastGeneration: generation, connections });
    return pool;
  }

  /** Closes, after `graceMs`, every pool not used by `generation`. */
  releaseUnused(generation: number, graceMs: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.lastGeneration < generation) this.retire(key, entry, graceMs);
    }
  }

  private retire(key: string, entry: Entry, graceMs: number): void {
    this.entries.delete(key);
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
