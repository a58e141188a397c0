/**
 * Aviary's built-in HTTP proxy (the data plane): live configuration swaps with generation numbers
 * (certificate and CA files read before a swap), the request entry point for HTTP/1.1 and
 * HTTP/2 alike, and graceful shutdown. Listeners live in listener-set.ts, change
 * checks in config-changes.ts, routing decisions in request-routing.ts, the upstream
 * exchange in forwarder.ts, upgrades in upgrade-handler.ts. See docs/adr/0001-data-plane.md.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { proxyConfigSchema, type ProxyConfig } from '../config/proxy-schema.js';
import { parseWithSchema } from '../config/schema-issues.js';
import { ProxyMetrics } from './stats/proxy-metrics.js';
import { ChangeQueue, setRouteTargets, staleGeneration, type ApplyResult } from './config-changes.js';
import { Exchange } from './forwarder.js';
import { addForwardingHeaders, applyHeaderOps, withoutHopByHop } from './http-headers.js';
import { certificateSources, ListenerSet, loadCertificates } from './listener-set.js';
import { schemeOf } from './listener-server.js';
import { ConfigError } from '../config/config-error.js';
import { MirrorLimiter, sendMirror } from './mirror.js';
import { bufferBody, hasBody, ReplayableBody, type RequestBody } from './request-body.js';
import { isGrpcRequest } from './grpc.js';
import { routeRequest, type RoutingDecision } from './request-routing.js';
import { compileRouteTable, type EndpointMemory, type RouteTable } from './route-table.js';
import { handleUpgrade } from './upgrade-handler.js';
import { loadCaBundles, UpstreamPools } from './upstream-pools.js';

export type { ApplyResult } from './config-changes.js';

/** Options of a {@link ProxyServer}. */
export interface ProxyServerOptions {
  /** Metrics registry to record into; a new one by default. */
  readonly metrics?: ProxyMetrics;
  /**
   * Called with each configuration accepted after the first, before the change is answered
   * (`aviary proxy --state` persists it there); a rejection fails only that change's answer.
   */
  readonly onApplied?: (config: ProxyConfig, generation: number) => Promise<void>;
}

/** The router; see the module header. Start it with {@link ProxyServer.start}. */
export class ProxyServer {
  readonly metrics: ProxyMetrics;
  private table: RouteTable;
  private memory: EndpointMemory;
  private readonly pools: UpstreamPools;
  private readonly listeners = new ListenerSet((server, listener) => {
    // HTTP/2 listeners hand over Node's compatibility objects (Http2ServerRequest and
    // Http2ServerResponse), which implement every member the request path uses.
    server.on('request', (req: IncomingMessage, res: ServerResponse) =>
      this.handleRequest(listener, req, res),
    );
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      handleUpgrade(this.table, this.metrics, listener, req, socket, head),
    );
  });
  private readonly mirrors: MirrorLimiter;
  private draining = false;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  /** Serialises configuration changes so generations are strictly ordered. */
  private readonly changes = new ChangeQueue();
  private readonly onApplied: ProxyServerOptions['onApplied'];

  constructor(config: ProxyConfig, options: ProxyServerOptions = {}) {
    // Its windows follow wall-clock jumps (docs/adr/0030-clock-jumps.md): the proxy records with Date.now().
    this.metrics = options.metrics ?? new ProxyMetrics(undefined, { monotonic: () => performance.now() });
    this.onApplied = options.onApplied;
    this.pools = new UpstreamPools({ keepAliveTimeoutMs: 4_000 });
    const caBundles = loadCaBundles(config);
    if ('ok' in caBundles) throw new ConfigError('the router configuration', caBundles.issues);
    this.pools.setCaBundles(caBundles);
    const compiled = compileRouteTable(config, 1, this.pools, this.metrics, new Map());
    this.table = compiled.table;
    this.memory = compiled.memory;
    this.metrics.retainOnly(compiled.series);
    this.metrics.generation = 1;
    this.mirrors = new MirrorLimiter(config.limits.maxMirrorsInFlight);
    this.metrics.ejectedEndpoints = () =>
      this.table.versions.flatMap((v) =>
        v.endpoints.ejected().map((e) => ({ service: v.service, version: v.version, endpoint: e.address })),
      );
  }

  /** Generation of the configuration in force (1 for the initial one). */
  get generation(): number {
    return this.table.generation;
  }

  /** The configuration in force, with defaults applied. */
  get config(): ProxyConfig {
    return this.table.config;
  }

  /**
   * Binds every listener. Throws a `ConfigError` (`AVIARY_CONFIG_INVALID`) naming the path
   * of a certificate or key file that cannot be used.
   */
  async start(): Promise<void> {
    const config = this.table.config;
    const certificates = loadCertificates(config);
    if ('ok' in certificates) throw new ConfigError('the router configuration', certificates.issues);
    for (const listener of config.listeners) {
      await this.listeners.open(listener, config.limits, config, certificates);
    }
  }

  /** Certificate reloads that took effect, and those refused (the old certificates kept serving). */
  get certificateReloads(): {
    readonly done: number;
    readonly refused: readonly { path: string; message: string }[];
  } {
    return { done: this.listeners.certificateReloads, refused: this.listeners.certificateReloadErrors };
  }

  /** Bound address of a listener (its real port when configured with port 0). */
  address(listener = this.table.config.listeners[0]?.name ?? 'default'): { host: string; port: number } {
    return this.listeners.address(listener);
  }

  /**
   * Validates and applies a whole configuration atomically. A rejected one leaves the
   * running configuration untouched and lists every issue with its path. When
   * `expectedGeneration` is given and differs from the current one, nothing changes.
   */
  applyConfig(input: unknown, expectedGeneration?: number): Promise<ApplyResult> {
    return this.changes.run(() => this.applyNow(input, expectedGeneration));
  }

  private async applyNow(input: unknown, expectedGeneration: number | undefined): Promise<ApplyResult> {
    const stale = staleGeneration(expectedGeneration, this.table.generation);
    if (stale) return stale;
    const parsed = parseWithSchema(proxyConfigSchema, input);
    if (!parsed.ok) return parsed;
    const config = parsed.value;
    // A change that leaves the certificates' sources alone (a weight change) reads no file.
    const sameCertificates = certificateSources(config) === certificateSources(this.table.config);
    const certificates = sameCertificates ? new Map<string, never>() : loadCertificates(config);
    if ('ok' in certificates) return certificates;
    const caBundles = loadCaBundles(config);
    if ('ok' in caBundles) return caBundles;
    const refused = await this.listeners.openNew(config, certificates);
    if (refused) return refused;
    const generation = this.table.generation + 1;
    this.pools.setCaBundles(caBundles);
    const compiled = compileRouteTable(config, generation, this.pools, this.metrics, this.memory);
    this.table = compiled.table;
    this.memory = compiled.memory;
    this.metrics.retainOnly(compiled.series);
    this.metrics.generation = generation;
    this.mirrors.maxInFlight = config.limits.maxMirrorsInFlight;
    this.listeners.applyLimits(config.limits);
    this.listeners.applyCertificates(config, certificates);
    this.pools.releaseUnused(generation, config.limits.drainTimeout);
    this.listeners.closeUnlisted(config.listeners);
    await this.onApplied?.(config, generation);
    return { ok: true, generation };
  }

  /**
   * Applies `change(current)` as the next configuration. The change runs in the same queue
   * as every other change, so read-modify-write updates from several callers never lose
   * each other's edits. A throw from `change` rejects the returned promise.
   */
  updateConfig(change: (current: ProxyConfig) => unknown): Promise<ApplyResult> {
    return this.changes.run(() => this.applyNow(change(structuredClone(this.table.config)), undefined));
  }

  /**
   * Sets the weights of one route (the call a rollout makes at every step), as a new
   * generation validated like any other configuration.
   */
  setRouteWeights(
    service: string,
    route: string,
    weights: Readonly<Record<string, number>>,
    expectedGeneration?: number,
  ): Promise<ApplyResult> {
    return this.changes.run(() => {
      const config = structuredClone(this.table.config);
      return setRouteTargets(config, service, route, weights) ?? this.applyNow(config, expectedGeneration);
    });
  }

  private requestDone = (): void => {
    this.inFlight--;
    this.metrics.inFlight = this.inFlight;
    if (this.inFlight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((w) => w());
    }
  };

  private handleRequest(listener: string, req: IncomingMessage, res: ServerResponse): void {
    const startedAt = performance.now();
    if (this.draining) res.shouldKeepAlive = false;
    const decision = routeRequest(this.table, listener, req);
    if (!('route' in decision)) {
      this.metrics.noRoute.set(listener, (this.metrics.noRoute.get(listener) ?? 0) + 1);
      const body = `no route: ${decision.reason}\n`;
      res.writeHead(404, {
        'content-type': 'text/plain; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
      return;
    }
    this.inFlight++;
    this.metrics.inFlight = this.inFlight;
    const { route } = decision;
    const headers = withoutHopByHop(req.headers);
    addForwardingHeaders(headers, req.socket.remoteAddress, schemeOf(req.socket));
    const grpc = isGrpcRequest(req.headers);
    // gRPC servers expect `TE: trailers`, the one TE value HTTP/2 allows (RFC 9113 §8.2.2).
    if (grpc) headers.te = 'trailers';
    if (route.requestHeaders) applyHeaderOps(headers, route.requestHeaders);
    const mirrored = route.mirror !== undefined && Math.random() * 100 < route.mirror.percent;
    const go = (body: RequestBody): void => {
      if (mirrored)
        sendMirror(route, req.method ?? 'GET', decision.path, headers, body, this.metrics, this.mirrors);
      this.forward(req, res, decision, headers, body, startedAt);
    };
    if (!hasBody(req)) go({ kind: 'none' });
    else if (route.retry === undefined && !mirrored) go({ kind: 'stream', stream: req });
    else if (!mirrored && grpc) {
      // A gRPC stream may never end before its answers come back, so it streams while a copy is kept.
      go({
        kind: 'replayable',
        body: new ReplayableBody(req, route.config.retries?.bufferBytes ?? 64 * 1024),
      });
    } else {
      bufferBody(req, route.config.retries?.bufferBytes ?? 64 * 1024).then(go, () => {
        res.destroy();
        this.requestDone();
      });
    }
  }

  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    decision: RoutingDecision,
    headers: Record<string, string | string[]>,
    body: RequestBody,
    startedAt: number,
  ): void {
    new Exchange({
      req,
      res,
      route: decision.route,
      version: decision.target.version,
      method: req.method ?? 'GET',
      path: decision.path,
      headers,
      body,
      affinityCookie: decision.affinityCookie,
      startedAt,
      metrics: this.metrics,
      onDone: this.requestDone,
    }).start();
  }

  /**
   * Stops accepting connections, waits for requests in flight (up to the configured drain
   * timeout), then closes every connection and upstream pool.
   */
  async close(): Promise<void> {
    this.draining = true;
    await this.listeners.closeAll(() => this.untilIdle(this.table.config.limits.drainTimeout));
    await this.pools.closeAll(1_000);
  }

  /** Resolves once no request is in flight, or after `timeout` ms. */
  private async untilIdle(timeout: number): Promise<void> {
    if (this.inFlight === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeout);
      }),
    ]);
    clearTimeout(timer);
  }
}
