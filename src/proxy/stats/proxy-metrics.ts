/**
 * The proxy's own metrics: per service, route, version and endpoint counters and latency
 * histograms for Prometheus, plus per-version rolling windows read in process by the
 * analysis engine. Hot-path recording is a few array increments on objects resolved when a
 * configuration is compiled, so no label strings are built per request.
 */
import { EndpointStats, LATENCY_BUCKETS_MS, MirrorStats } from './endpoint-stats.js';
import { renderProxyMetrics } from './proxy-metrics-text.js';
import { ClockJumpDetector } from '../../clock/clock-jump-detector.js';
import type { TrafficBucket, TrafficWindows } from '../../analysis/traffic-source.js';
import {
  DEFAULT_WINDOW_SECONDS,
  RollingWindow,
  type ErrorKind,
  type TrafficCounts,
  type TrafficSnapshot,
} from './rolling-window.js';

/** Read-only view of one version's traffic for the analysis engine. */
export interface VersionTraffic {
  readonly service: string;
  readonly version: string;
  /** Exact cumulative counters since the router started. */
  readonly totals: Readonly<TrafficCounts>;
  /** Counts and latency sketch of [fromMs, toMs) (widened to whole seconds). */
  snapshot(fromMs: number, toMs: number): TrafficSnapshot;
}

/** Options of {@link ProxyMetrics}. */
export interface ProxyMetricsOptions {
  /**
   * How long the series of an endpoint, mirror or version that no configuration uses any more
   * are kept: exported for scrapes to read their last counts, then forgotten. Default 10 min,
   * twice Prometheus's staleness period.
   */
  readonly retainUnusedMs?: number;
  /** Clock of that retention; default `Date.now`. */
  readonly now?: () => number;
  /**
   * A clock no wall-clock step moves (`performance.now`). Given, the windows follow jumps of
   * the wall clock: `now` is read against it at reads and once per second of records, and
   * when the wall clock was stepped every window moves by the jump in whole seconds
   * (docs/adr/0030-clock-jumps.md). Absent, nothing is moved.
   */
  readonly monotonic?: () => number;
}

/**
 * Registry of every metric the router records. A series lives while a configuration uses it
 * and {@link ProxyMetricsOptions.retainUnusedMs} after: each release brings new endpoints
 * (new ports), and a proxy that kept every series it ever had would grow without bound.
 */
export class ProxyMetrics {
  private readonly endpointStats = new Map<string, EndpointStats>();
  private readonly mirrorStats = new Map<string, MirrorStats>();
  private readonly windows = new Map<string, RollingWindow>();
  /** Requests that matched no service or route, by listener. */
  readonly noRoute = new Map<string, number>();
  generation = 0;
  inFlight = 0;
  /** Endpoint ejection state, reported as a gauge; filled by the proxy at scrape time. */
  ejectedEndpoints: () => readonly { service: string; version: string; endpoint: string }[] = () => [];

  /** Series no configuration in force uses, with the time they stopped being used. */
  private readonly unusedSince = new Map<object, number>();
  private readonly retainUnusedMs: number;
  private readonly now: () => number;
  private readonly jumps: ClockJumpDetector | undefined;
  private checkedSecond = -1;

  constructor(
    readonly windowSeconds?: number,
    options: ProxyMetricsOptions = {},
  ) {
    this.retainUnusedMs = options.retainUnusedMs ?? 600_000;
    this.now = options.now ?? Date.now;
    this.jumps =
      options.monotonic === undefined
        ? undefined
        : new ClockJumpDetector({ wall: this.now, monotonic: options.monotonic });
  }

  /** Moves every window and retention time when the wall clock jumped since the last look. */
  private followClock(): void {
    if (this.jumps === undefined) return;
    const { jumpMs } = this.jumps.read();
    if (jumpMs === 0) return;
    const seconds = Math.round(jumpMs / 1000);
    for (const window of this.windows.values()) window.rebase(seconds);
    for (const [series, since] of this.unusedSince) this.unusedSince.set(series, since + jumpMs);
  }

  /**
   * {@link followClock} once per second of records: a jump (a second or more) always lands in
   * a new second, so the first request after it is recorded in the new frame.
   */
  private followClockAt(nowMs: number): void {
    const second = Math.floor(nowMs / 1000);
    if (second === this.checkedSecond) return;
    this.checkedSecond = second;
    this.followClock();
  }

  /**
   * Marks the series the configuration in force uses (`inUse`: the stats objects and
   * windows its route table refers to). The others count as unused from now on, and those
   * unused for the retention period are forgotten.
   */
  retainOnly(inUse: ReadonlySet<object>): void {
    const now = this.now();
    for (const series of this.allSeries()) {
      for (const value of series.values()) {
        if (inUse.has(value)) this.unusedSince.delete(value);
        else if (!this.unusedSince.has(value)) this.unusedSince.set(value, now);
      }
    }
    this.forgetUnused(now);
  }

  /** Forgets the series unused for the retention period. */
  private forgetUnused(now: number): void {
    for (const series of this.allSeries()) {
      for (const [key, value] of series) {
        const since = this.unusedSince.get(value);
        if (since === undefined || now - since < this.retainUnusedMs) continue;
        series.delete(key);
        this.unusedSince.delete(value);
      }
    }
  }

  private allSeries(): Map<string, object>[] {
    return [this.endpointStats, this.mirrorStats, this.windows];
  }

  /** The stats object of one series, created on first use and kept across config swaps. */
  endpoint(service: string, route: string, version: string, endpoint: string): EndpointStats {
    const key = `${service}\u0000${route}\u0000${version}\u0000${endpoint}`;
    let stats = this.endpointStats.get(key);
    if (!stats) {
      stats = new EndpointStats(service, route, version, endpoint);
      this.endpointStats.set(key, stats);
    }
    return stats;
  }

  /** Mirror stats of one (service, route, version). */
  mirror(service: string, route: string, version: string): MirrorStats {
    const key = `${service}\u0000${route}\u0000${version}`;
    let stats = this.mirrorStats.get(key);
    if (!stats) {
      stats = new MirrorStats(service, route, version);
      this.mirrorStats.set(key, stats);
    }
    return stats;
  }

  /** The rolling window of one (service, version), created on first use. */
  window(service: string, version: string): RollingWindow {
    const key = `${service}\u0000${version}`;
    let window = this.windows.get(key);
    if (!window) {
      window = new RollingWindow(this.windowSeconds);
      this.windows.set(key, window);
    }
    return window;
  }

  /** Records one answered live request. */
  recordRequest(
    stats: EndpointStats,
    window: RollingWindow,
    nowMs: number,
    status: number,
    latencyMs: number,
    errorKind: ErrorKind | undefined,
  ): void {
    const code = status - 100;
    if (code >= 0 && code < 500) stats.byStatus[code]!++;
    if (errorKind !== undefined) stats.errors[errorKind]++;
    let bucket = 0;
    while (bucket < LATENCY_BUCKETS_MS.length && latencyMs > LATENCY_BUCKETS_MS[bucket]!) bucket++;
    stats.latencyBuckets[bucket]!++;
    stats.latencySumMs += latencyMs;
    stats.latencyCount++;
    this.followClockAt(nowMs);
    window.record(nowMs, status, latencyMs, errorKind);
  }

  /** Records one mirrored copy (status 0 when the copy failed upstream). */
  recordMirror(
    stats: MirrorStats,
    window: RollingWindow,
    nowMs: number,
    status: number,
    latencyMs: number,
  ): void {
    const code = status - 100;
    if (code >= 0 && code < 500) stats.byStatus[code]!++;
    else stats.errors++;
    this.followClockAt(nowMs);
    window.recordMirror(nowMs, status, latencyMs);
  }

  /** Per-version traffic for the analysis engine (all zero until the version sees a request). */
  versionTraffic(service: string, version: string): VersionTraffic {
    const window = this.window(service, version);
    return {
      service,
      version,
      totals: window.totals,
      snapshot: (fromMs, toMs) => {
        this.followClock();
        return window.snapshot(fromMs, toMs);
      },
    };
  }

  /** The rolling windows as {@link TrafficWindows}, for the judge and the dashboard in this process. */
  trafficWindows(): TrafficWindows {
    return {
      windowSeconds: this.windowSeconds ?? DEFAULT_WINDOW_SECONDS,
      buckets: (app, version, fromMs, toMs, stepMs) =>
        Promise.resolve(this.trafficBuckets(app, version, fromMs, toMs, stepMs)),
    };
  }

  /**
   * Buckets of `stepMs` ending at `toMs`, as many as fit in [fromMs, toMs). Reading a window
   * creates it, so callers check the name first (the admin and control APIs do).
   */
  trafficBuckets(
    service: string,
    version: string,
    fromMs: number,
    toMs: number,
    stepMs: number,
  ): TrafficBucket[] {
    if (!(stepMs > 0)) throw new RangeError(`stepMs: expected a number > 0, got ${stepMs}`);
    this.followClock();
    const window = this.window(service, version);
    const count = Math.max(1, Math.floor((toMs - fromMs) / stepMs));
    const buckets: TrafficBucket[] = [];
    for (let end = toMs - (count - 1) * stepMs; end <= toMs; end += stepMs)
      buckets.push(window.snapshot(end - stepMs, end));
    return buckets;
  }

  /** Every series, for exposition. */
  allEndpointStats(): IterableIterator<EndpointStats> {
    return this.endpointStats.values();
  }

  allMirrorStats(): IterableIterator<MirrorStats> {
    return this.mirrorStats.values();
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    this.forgetUnused(this.now());
    return renderProxyMetrics(this);
  }
}
