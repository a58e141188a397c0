/**
 * Per-version traffic for the judge and the dashboard read from Prometheus, for data planes
 * Aviary does not run itself (Istio, Envoy Gateway on Kubernetes): a {@link TrafficWindows}
 * whose counts are exact whole numbers over aligned windows, answered only once Prometheus
 * has scraped past a window's end. See docs/adr/0020-judge-from-prometheus.md.
 *
 * A version is a Service (`<app>-primary`, `<app>-canary`, `<app>-baseline` by default, as
 * Flagger names them); its series come from prometheus-builtin-queries-*.ts, the same
 * selectors the built-in checks use.
 */
import { AviaryError } from '../errors.js';
import { LatencySketch } from '../analysis/latency-sketch.js';
import type { TrafficBucket, TrafficWindows } from '../analysis/traffic-source.js';
import { MetricQueryError } from './metric-provider.js';
import {
  envoyGatewaySeries,
  type EnvoyGatewayClusterOf,
} from './prometheus-builtin-queries-envoy-gateway.js';
import { istioSeries, type IstioReporter } from './prometheus-builtin-queries-istio.js';
import type { ServiceRef, VersionSeries } from './prometheus-builtin-queries-series.js';
import { queryAt, type PrometheusApiOptions } from './prometheus-traffic-api.js';
import {
  counterIncrements,
  latencySketches,
  resetScrapes,
  totalIncrements,
  windowGrid,
  type CounterRead,
  type WindowGrid,
} from './prometheus-traffic-counts.js';

/** Data planes whose series {@link PrometheusTraffic} reads. */
export const TRAFFIC_DATA_PLANES = ['istio', 'envoy-gateway'] as const;
/** One of {@link TRAFFIC_DATA_PLANES}. */
export type TrafficDataPlane = (typeof TRAFFIC_DATA_PLANES)[number];

/**
 * How far before a window a counter's previous sample is looked for: Prometheus's own
 * lookback delta (5 minutes), so any series scraped at all has one.
 */
export const DEFAULT_LOOKBACK_MS = 300_000;
/** Prometheus's default retention (15 days). */
export const DEFAULT_RETENTION_SECONDS = 15 * 24 * 3600;
/** Limit per query. */
export const DEFAULT_TRAFFIC_TIMEOUT_MS = 5_000;

/** Settings of a {@link PrometheusTraffic}. */
export interface PrometheusTrafficOptions {
  /** Prometheus base URL, e.g. `http://prometheus.monitoring:9090`. */
  readonly address: string;
  /** Headers for every query (credentials for a proxy in front). Never shown in messages. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Limit per query in ms; default {@link DEFAULT_TRAFFIC_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /** Whose series to read. */
  readonly dataPlane: TrafficDataPlane;
  /** Namespace of the versions' Services. */
  readonly namespace: string;
  /** The Service of a version; default `<app>-<version>` (primary, canary, baseline). */
  readonly serviceOf?: (app: string, version: string) => string;
  /** Istio only: whose report to read; default the sending proxy (`source`), i.e. the gateway. */
  readonly istioReporter?: IstioReporter;
  /** Envoy Gateway only: the cluster carrying a Service (see prometheus-builtin-queries-envoy-gateway.ts). */
  readonly envoyClusterOf?: EnvoyGatewayClusterOf;
  /**
   * Selector of the `up` series of every target exporting the data plane's metrics, e.g.
   * `up{job="istio-gateways"}`; default `up` (every target, so the slowest one sets the pace).
   */
  readonly scrapeTargets?: string;
  /** Default {@link DEFAULT_LOOKBACK_MS}. */
  readonly lookbackMs?: number;
  /** How far back Prometheus keeps samples; default {@link DEFAULT_RETENTION_SECONDS}. */
  readonly retentionSeconds?: number;
}

/** {@link TrafficWindows} from a Prometheus that scrapes the data plane. */
export class PrometheusTraffic implements TrafficWindows {
  readonly windowSeconds: number;
  private readonly api: PrometheusApiOptions;
  private readonly targets: string;
  private readonly lookbackMs: number;

  constructor(private readonly options: PrometheusTrafficOptions) {
    if (!(TRAFFIC_DATA_PLANES as readonly string[]).includes(options.dataPlane)) {
      throw new AviaryError(
        'AVIARY_CONFIG_INVALID',
        `dataPlane: unknown data plane "${String(options.dataPlane)}"; expected one of ${TRAFFIC_DATA_PLANES.join(', ')}`,
      );
    }
    this.api = {
      address: options.address,
      headers: options.headers,
      timeoutMs: options.timeoutMs ?? DEFAULT_TRAFFIC_TIMEOUT_MS,
    };
    this.targets = options.scrapeTargets ?? 'up';
    this.lookbackMs = options.lookbackMs ?? DEFAULT_LOOKBACK_MS;
    this.windowSeconds = options.retentionSeconds ?? DEFAULT_RETENTION_SECONDS;
  }

  /** The Service and series of one version. */
  seriesOf(app: string, version: string): { service: ServiceRef; series: VersionSeries } {
    const service = {
      namespace: this.options.namespace,
      name: this.options.serviceOf?.(app, version) ?? `${app}-${version}`,
    };
    const series =
      this.options.dataPlane === 'istio'
        ? istioSeries(service, this.options.istioReporter)
        : envoyGatewaySeries(service, this.options.envoyClusterOf);
    return { service, series };
  }

  /**
   * The time (ms) up to which every data plane target has been scraped: the oldest of their
   * latest scrapes. Prometheus commits a scrape's samples before the `up` sample of that
   * scrape, and scrapes of one target do not overlap, so once `up` is at or past `t` no
   * sample at or before `t` can still arrive.
   * @throws MetricQueryError AVIARY_METRIC_NO_VALUES when no target matches.
   */
  async settledUntil(signal?: AbortSignal): Promise<number> {
    const [oldest] = await queryAt(this.api, `min(timestamp(${this.targets}))`, undefined, signal);
    const value = oldest?.samples[0]?.[1];
    if (value === undefined || !Number.isFinite(value)) {
      throw new MetricQueryError(
        'AVIARY_METRIC_NO_VALUES',
        `no scrape target matches ${this.targets}: Prometheus has not scraped the data plane`,
      );
    }
    return Math.round(value * 1000);
  }

  /**
   * Windows `[fromMs + i·stepMs, …)` of `version`'s traffic. Counts are differences of raw
   * counter samples (prometheus-traffic-counts.ts): a request is in the window in which
   * Prometheus first scraped it, so windows trail the data plane by up to one scrape interval
   * and both versions, scraped together, trail alike.
   * @throws MetricQueryError AVIARY_METRIC_NO_VALUES (a hold) while Prometheus has not yet
   * scraped every target past `toMs`: answering then would read the unscraped part as silence.
   */
  async buckets(
    app: string,
    version: string,
    fromMs: number,
    toMs: number,
    stepMs: number,
    signal?: AbortSignal,
  ): Promise<TrafficBucket[]> {
    const grid = windowGrid(fromMs, toMs, stepMs);
    const { service, series } = this.seriesOf(app, version);
    const settled = await this.settledUntil(signal);
    if (settled < toMs) {
      throw new MetricQueryError(
        'AVIARY_METRIC_NO_VALUES',
        `traffic of ${app}/${version} (Service ${service.namespace}/${service.name}) over ` +
          `[${iso(fromMs)}, ${iso(toMs)}) is not scraped yet: the data plane's targets (${this.targets}) ` +
          `were scraped up to ${iso(settled)}; ask again after their next scrape`,
      );
    }
    const reads = await Promise.all(
      [series.requests, series.errors, series.latencyBuckets].map((selector) =>
        this.read(selector, grid, signal),
      ),
    );
    const [requests, errors, latency] = reads as [CounterRead, CounterRead, CounterRead];
    // A restart seen in any of the version's counters is a restart of all of that target's.
    const resets = resetScrapes(reads, grid);
    const requestCounts = totalIncrements(counterIncrements(requests, grid, undefined, resets), grid);
    const errorCounts = totalIncrements(counterIncrements(errors, grid, undefined, resets), grid);
    const byLe = counterIncrements(latency, grid, (labels) => labels.le ?? '', resets);
    const sketches = latencySketches(byLe, grid, series.latencyUnitMs);
    return requestCounts.map((count, i) => ({
      requests: count,
      errors5xx: errorCounts[i]!,
      latency: sketches[i]!,
      // Mirrored copies are not told apart in these series (Envoy counts a shadow request in
      // its cluster like any other): they are in `requests`.
      mirrored: 0,
      mirroredErrors: 0,
      mirroredLatency: new LatencySketch(),
    }));
  }

  private async read(
    selector: string,
    grid: WindowGrid,
    signal: AbortSignal | undefined,
  ): Promise<CounterRead> {
    const [baseline, samples] = await Promise.all([
      // Each series' last sample at or before the first window's start.
      queryAt(this.api, `last_over_time(${selector}[${this.lookbackMs}ms])`, grid.fromMs, signal),
      // Every raw sample up to the last window's end (an instant query of a range selector).
      queryAt(this.api, `${selector}[${grid.toMs - grid.fromMs}ms]`, grid.toMs, signal),
    ]);
    return { baseline, samples };
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
