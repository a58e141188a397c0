/**
 * The endpoints of one version: load balancing (round-robin or least-request) and passive
 * health checking. An endpoint is ejected after `consecutiveFailures` connect errors,
 * timeouts, resets or 5xx answers in a row, for `baseEjectionTime` × the number of times it
 * was ejected (capped), then brought back — Envoy's outlier detection, which App Mesh's
 * `outlierDetection` configures.
 * https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/outlier
 */
import type { Pool } from 'undici';
import type { VersionConfig } from '../config/proxy-schema.js';

/** The CA bundle and server name a version's `tls` sets for `https://` endpoints. */
export interface UpstreamTlsOptions {
  readonly ca?: Buffer;
  readonly servername?: string;
}

/** One upstream address of a version. */
export class Endpoint {
  /** Requests in flight, for least-request balancing. */
  active = 0;
  consecutiveFailures = 0;
  ejectedUntil = 0;
  ejections = 0;

  constructor(
    readonly origin: string,
    /** `host:port`, the label used in metrics. */
    readonly address: string,
    readonly pool: Pool,
    /** TLS options for connections made outside the pool (upgrades) to an `https://` origin. */
    readonly tls: UpstreamTlsOptions = {},
  ) {}
}

/** Balancer and health tracker over one version's endpoints. */
export class EndpointSet {
  private cursor = 0;

  constructor(
    readonly endpoints: readonly Endpoint[],
    private readonly config: VersionConfig,
    private readonly now: () => number = Date.now,
  ) {
    this.cursor = Math.floor(Math.random() * Math.max(1, endpoints.length));
  }

  private healthy(endpoint: Endpoint, now: number): boolean {
    if (endpoint.ejectedUntil === 0) return true;
    if (endpoint.ejectedUntil > now) return false;
    endpoint.ejectedUntil = 0;
    endpoint.consecutiveFailures = 0;
    return true;
  }

  /**
   * Picks an endpoint, avoiding `avoid` (the one a retry just failed on) when another healthy
   * one exists. When every endpoint is ejected it picks among all of them (Envoy's panic mode):
   * ejection must never turn a degraded version into a dead one.
   */
  pick(avoid?: Endpoint): Endpoint | undefined {
    const all = this.endpoints;
    if (all.length === 0) return undefined;
    if (all.length === 1) return all[0];
    const now = this.now();
    if (this.config.balancing === 'least-request') return this.pickLeastRequest(now, avoid);
    for (let i = 0; i < all.length; i++) {
      const candidate = all[this.cursor++ % all.length]!;
      if (candidate !== avoid && this.healthy(candidate, now)) return candidate;
    }
    return avoid !== undefined && this.healthy(avoid, now) ? avoid : all[this.cursor++ % all.length];
  }

  /** Power of two random choices among healthy endpoints (Mitzenmacher 2001). */
  private pickLeastRequest(now: number, avoid: Endpoint | undefined): Endpoint | undefined {
    const candidates = this.endpoints.filter((e) => e !== avoid && this.healthy(e, now));
    const pool = candidates.length > 0 ? candidates : this.endpoints;
    const a = pool[Math.floor(Math.random() * pool.length)]!;
    const b = pool[Math.floor(Math.random() * pool.length)]!;
    return b.active < a.active ? b : a;
  }

  /** Records a successful answer (below 500). */
  onSuccess(endpoint: Endpoint): void {
    endpoint.consecutiveFailures = 0;
  }

  /** Records a failure; ejects the endpoint when it reaches the threshold and the cap allows. */
  onFailure(endpoint: Endpoint): void {
    const od = this.config.outlierDetection;
    endpoint.consecutiveFailures++;
    if (endpoint.consecutiveFailures < od.consecutiveFailures || endpoint.ejectedUntil > 0) return;
    const now = this.now();
    const ejected = this.endpoints.filter((e) => e.ejectedUntil > now).length;
    const allowed = Math.max(1, Math.floor((this.endpoints.length * od.maxEjectionPercent) / 100));
    if (ejected >= allowed) return;
    endpoint.ejections++;
    endpoint.ejectedUntil = now + Math.min(od.baseEjectionTime * endpoint.ejections, od.maxEjectionTime);
  }

  /** Endpoints ejected now. */
  ejected(): Endpoint[] {
    const now = this.now();
    return this.endpoints.filter((e) => e.ejectedUntil > now);
  }
}
