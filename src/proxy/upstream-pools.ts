/**
 * Keep-alive connection pools to upstream endpoints, shared across configuration
 * generations so a weight change never drops a warm connection. A pool that no
 * configuration uses any more is closed after a grace period, which lets requests and
 * retries still holding the old configuration finish on it.
 */
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import type { ProxyConfig, VersionConfig } from '../config/proxy-schema.js';
import { refusedChange, type RefusedChange } from './config-changes.js';

/** CA bundles read from the `tls.caFile` of versions, by file path. */
export type CaBundles = ReadonlyMap<string, Buffer>;

/**
 * Reads every `versions[].tls.caFile` of `config`, or refuses the configuration naming the
 * path of the first file that cannot be read. Runs before a configuration is swapped in.
 */
export function loadCaBundles(config: ProxyConfig): CaBundles | RefusedChange {
  const bundles = new Map<string, Buffer>();
  for (const [i, svc] of config.services.entries()) {
    for (const [j, v] of svc.versions.entries()) {
      const file = v.tls?.caFile;
      if (file === undefined || bundles.has(file)) continue;
      try {
        const pem = readFileSync(file);
        if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate in it');
        bundles.set(file, pem);
      } catch (err) {
        return refusedChange(
          `services[${i}].versions[${j}].tls.caFile`,
          `cannot use ${file}: ${(err as Error).message}`,
        );
      }
    }
  }
  return bundles;
}

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

  private caBundles: CaBundles = new Map();

  /** CA bundles of the configuration being compiled (from {@link loadCaBundles}). */
  setCaBundles(bundles: CaBundles): void {
    this.caBundles = bundles;
  }

  /**
   * The pool of `origin` for `version` (its connection limit, protocol and TLS settings),
   * created on first use, marked as used by `generation`.
   */
  acquire(origin: string, version: VersionConfig, generation: number): Pool {
    const connections = version.connectionsPerEndpoint;
    const http2 = version.protocol === 'http2';
    const key = `${connections} ${http2 ? 'h2' : 'h1'} ${version.tls?.caFile ?? ''} ${version.tls?.serverName ?? ''} ${origin}`;
    const existing = this.entries.get(key);
    if (existing) {
      existing.lastGeneration = generation;
      return existing.pool;
    }
    const pool = new Pool(origin, {
      connections,
      pipelining: 1,
      // HTTP/2: h2c with prior knowledge in clear (what gRPC servers speak), h2 by ALPN over TLS.
      allowH2: http2,
      // `useH2c` goes to undici's connector, which a Pool builds from `connect` (a Pool
      // drops a top-level useH2c); it is missing from undici's types.
      connect: {
        ...this.tlsOptions(version),
        ...({ useH2c: http2 && origin.startsWith('http:') } as object),
      },
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

  /** The TLS options of `version`'s `https://` endpoints (CA bundle, server name). */
  tlsOptions(version: VersionConfig): { ca?: Buffer; servername?: string } {
    const ca = version.tls?.caFile === undefined ? undefined : this.caBundles.get(version.tls.caFile);
    const servername = version.tls?.serverName;
    return { ...(ca ? { ca } : {}), ...(servername === undefined ? {} : { servername }) };
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
