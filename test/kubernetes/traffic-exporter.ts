/**
 * The test clusters' stand-in for a data plane (docs/adr/0019-kubernetes-operator.md): no
 * gateway runs, so this loopback server plays one. Every second it "serves" `rps` requests,
 * split across the backend Services by the weights of an HTTPRoute it reads from the API
 * server, as a gateway would, with per-version error rates and latencies the test sets, and
 * exposes what it served on `/metrics` in Istio's shape (`istio_requests_total`,
 * `istio_request_duration_milliseconds_bucket` with Envoy's default buckets, reported by the
 * gateway: `reporter="source"`). Deterministic given a seed: the same weights and settings
 * give the same counts. It stops by itself after `maxRunMs`, and on `close()`.
 *
 * For exact checks it numbers its scrapes (`aviary_test_exporter_scrapes_total`) and keeps
 * what each scrape reported, so a test can tell what Prometheus saw at any scrape.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRandom, normalDraw } from '../../src/analysis/test-support.js';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { KubeApi } from '../../src/kubernetes/kube-api.js';

/** Envoy's default histogram buckets (ms), which Istio's proxies use for request durations. */
export const ENVOY_DEFAULT_BUCKETS_MS = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000,
  3600000,
] as const;

/** How one version behaves. */
export interface VersionBehaviour {
  /** Share of requests answered 503, in [0, 1]. */
  readonly errorRate: number;
  /** Median latency in ms; each request's is log-normal around it (σ = 0.3). */
  readonly latencyMs: number;
}

/** A backend Service and its weight, as read from the route. */
export interface BackendWeight {
  readonly namespace: string;
  readonly service: string;
  readonly weight: number;
}

/** Settings of a {@link TrafficExporter}. */
export interface TrafficExporterOptions {
  /** Requests per second; a whole number. */
  readonly rps: number;
  readonly seed: number;
  /** The HTTPRoute whose catch-all rule's weights split the traffic. */
  readonly route: { readonly namespace: string; readonly name: string };
  /** Where the route is read; required unless `weights` is given. */
  readonly kube?: KubeApi;
  /** The backends' weights now; default: read the route through `kube`. */
  readonly weights?: () => Promise<readonly BackendWeight[]>;
  /** Serve a second every second; false lets the test call {@link TrafficExporter.serveSecond}. Default true. */
  readonly autoTick?: boolean;
  /** How often the route is read, in ms; default 250. */
  readonly pollMs?: number;
  /** It stops serving and closes after this many ms; default 300 000. */
  readonly maxRunMs?: number;
}

/** What one Service has been served, in total. */
export interface ServedTotals {
  readonly requests: number;
  readonly errors: number;
}

interface Counters {
  readonly namespace: string;
  readonly byCode: Map<number, { count: number; buckets: number[]; sumMs: number }>;
}

const DEFAULT_BEHAVIOUR: VersionBehaviour = { errorRate: 0, latencyMs: 20 };

/** Reads the weights of the route's catch-all rule (the first without header or query matches). */
export function routeWeights(kube: KubeApi, route: { namespace: string; name: string }) {
  return async (): Promise<BackendWeight[]> => {
    const object = await kube.read<
      KubernetesObject & {
        spec?: {
          rules?: {
            matches?: { headers?: unknown[]; queryParams?: unknown[] }[];
            backendRefs?: { name: string; namespace?: string; weight?: number }[];
          }[];
        };
      }
    >({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', ...route });
    const rules = object?.spec?.rules ?? [];
    const catchAll =
      rules.find((r) => (r.matches ?? []).every((m) => !m.headers?.length && !m.queryParams?.length)) ??
      rules[0];
    return (catchAll?.backendRefs ?? []).map((ref) => ({
      namespace: ref.namespace ?? route.namespace,
      service: ref.name,
      weight: ref.weight ?? 1,
    }));
  };
}

/** See the module header. */
export class TrafficExporter {
  /** Resolves once it has stopped, by `close()` or after `maxRunMs`. */
  readonly closed: Promise<void>;
  private readonly random: () => number;
  private readonly readWeights: () => Promise<readonly BackendWeight[]>;
  private readonly behaviours = new Map<string, VersionBehaviour>();
  private readonly counters = new Map<string, Counters>();
  private readonly scrapes: Map<string, ServedTotals>[] = [];
  private weights: readonly BackendWeight[] = [];
  private server: Server | undefined;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private markClosed!: () => void;
  /** The last failure to read the route, if the latest read failed. */
  lastReadError: unknown;

  constructor(private readonly options: TrafficExporterOptions) {
    if (!Number.isInteger(options.rps) || options.rps < 0) {
      throw new Error(`rps: expected a whole number >= 0, got ${options.rps}`);
    }
    const { kube } = options;
    const read = options.weights ?? (kube ? routeWeights(kube, options.route) : undefined);
    if (read === undefined) throw new Error('kube or weights: one is required to read the route');
    this.readWeights = read;
    this.random = createRandom(options.seed);
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
  }

  /** Sets how the Services of `version` behave: `canary` applies to `<svc>-canary` (or a Service named so). */
  setVersion(version: string, behaviour: VersionBehaviour): void {
    if (!(behaviour.errorRate >= 0 && behaviour.errorRate <= 1) || !(behaviour.latencyMs > 0)) {
      throw new Error(`setVersion ${version}: expected 0 <= errorRate <= 1 and latencyMs > 0`);
    }
    this.behaviours.set(version, behaviour);
  }

  /** Reads the route, listens on loopback and, unless `autoTick` is false, serves every second. */
  async start(): Promise<{ url: string; target: string }> {
    await this.refreshWeights();
    this.server = createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(this.scrape());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    const every = (ms: number, run: () => void) => this.timers.push(setInterval(run, ms));
    every(this.options.pollMs ?? 250, () => void this.refreshWeights());
    if (this.options.autoTick !== false) every(1000, () => this.serveSecond());
    this.timers.push(setTimeout(() => void this.close(), this.options.maxRunMs ?? 300_000));
    return { url: `http://127.0.0.1:${port}`, target: `127.0.0.1:${port}` };
  }

  /** The weights the last route read found. */
  currentWeights(): readonly BackendWeight[] {
    return this.weights;
  }

  /** Serves one second of traffic at the current weights. */
  serveSecond(): void {
    if (this.stopped) return;
    const total = this.weights.reduce((sum, b) => sum + b.weight, 0);
    if (total <= 0) return;
    for (let i = 0; i < this.options.rps; i++) {
      let pick = this.random() * total;
      const backend =
        this.weights.find((b) => (pick -= b.weight) < 0) ?? this.weights[this.weights.length - 1]!;
      const behaviour = this.behaviourOf(backend.service);
      const code = this.random() < behaviour.errorRate ? 503 : 200;
      const latencyMs = behaviour.latencyMs * Math.exp(0.3 * normalDraw(this.random));
      this.record(backend, code, latencyMs);
    }
  }

  /** What `service` had been served when the `scrape`-th scrape (from 1) was answered. */
  servedAtScrape(scrape: number, service: string): ServedTotals {
    const at = this.scrapes[scrape - 1];
    if (at === undefined)
      throw new Error(`scrape ${scrape} has not happened (${this.scrapes.length} so far)`);
    return at.get(service) ?? { requests: 0, errors: 0 };
  }

  /** What `service` has been served so far. */
  served(service: string): ServedTotals {
    return this.totals().get(service) ?? { requests: 0, errors: 0 };
  }

  /** Stops serving, the route reads and the server. Idempotent. */
  async close(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      for (const timer of this.timers) clearTimeout(timer);
      this.timers = [];
      const server = this.server;
      if (server) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
      this.markClosed();
    }
    await this.closed;
  }

  private behaviourOf(service: string): VersionBehaviour {
    const exact = this.behaviours.get(service);
    if (exact) return exact;
    for (const [version, behaviour] of this.behaviours) if (service.endsWith(`-${version}`)) return behaviour;
    return DEFAULT_BEHAVIOUR;
  }

  private async refreshWeights(): Promise<void> {
    try {
      const weights = await this.readWeights();
      this.weights = weights;
      this.lastReadError = undefined;
    } catch (error) {
      // A gateway keeps its last configuration when the API server is away.
      this.lastReadError = error;
    }
  }

  private record(backend: BackendWeight, code: number, latencyMs: number): void {
    let counters = this.counters.get(backend.service);
    if (counters === undefined) {
      counters = { namespace: backend.namespace, byCode: new Map() };
      this.counters.set(backend.service, counters);
    }
    let series = counters.byCode.get(code);
    if (series === undefined) {
      // Istio creates a series at the first request with its labels, as here.
      series = { count: 0, buckets: ENVOY_DEFAULT_BUCKETS_MS.map(() => 0), sumMs: 0 };
      counters.byCode.set(code, series);
    }
    series.count++;
    series.sumMs += latencyMs;
    ENVOY_DEFAULT_BUCKETS_MS.forEach((le, i) => {
      if (latencyMs <= le) series.buckets[i]!++;
    });
  }

  private totals(): Map<string, ServedTotals> {
    const out = new Map<string, ServedTotals>();
    for (const [service, counters] of this.counters) {
      let requests = 0;
      let errors = 0;
      for (const [code, series] of counters.byCode) {
        requests += series.count;
        if (code >= 500) errors += series.count;
      }
      out.set(service, { requests, errors });
    }
    return out;
  }

  private scrape(): string {
    this.scrapes.push(this.totals());
    const lines = [
      '# TYPE aviary_test_exporter_scrapes_total counter',
      `aviary_test_exporter_scrapes_total ${this.scrapes.length}`,
      '# TYPE istio_requests_total counter',
    ];
    const histogram: string[] = ['# TYPE istio_request_duration_milliseconds histogram'];
    for (const [service, counters] of this.counters) {
      for (const [code, series] of counters.byCode) {
        const labels =
          `reporter="source",source_workload="aviary-test-gateway",destination_service_name="${service}",` +
          `destination_service_namespace="${counters.namespace}",response_code="${code}"`;
        lines.push(`istio_requests_total{${labels}} ${series.count}`);
        ENVOY_DEFAULT_BUCKETS_MS.forEach((le, i) =>
          histogram.push(
            `istio_request_duration_milliseconds_bucket{${labels},le="${le}"} ${series.buckets[i]}`,
          ),
        );
        histogram.push(`istio_request_duration_milliseconds_bucket{${labels},le="+Inf"} ${series.count}`);
        histogram.push(`istio_request_duration_milliseconds_sum{${labels}} ${series.sumMs}`);
        histogram.push(`istio_request_duration_milliseconds_count{${labels}} ${series.count}`);
      }
    }
    return [...lines, ...histogram, ''].join('\n');
  }
}
