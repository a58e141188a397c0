/**
 * Aviary's built-in HTTP router: listeners, live configuration swaps with generation
 * numbers, and graceful shutdown. Routing decisions live in request-routing.ts, the
 * upstream exchange in forwarder.ts. See docs/adr/0001-data-plane.md.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { AviaryError } from '../errors.js';
import type { ConfigIssue } from '../config/config-error.js';
import { proxyConfigSchema, type ListenerConfig, type ProxyConfig } from '../config/proxy-schema.js';
import { parseWithSchema } from '../config/schema-issues.js';
import { ProxyMetrics } from '../metrics/proxy-metrics.js';
import { Exchange } from './forwarder.js';
import { addForwardingHeaders, applyHeaderOps, withoutHopByHop } from './http-headers.js';
import { MirrorLimiter, sendMirror } from './mirror.js';
import { bufferBody, hasBody, type RequestBody } from './request-body.js';
import { routeRequest, type RoutingDecision } from './request-routing.js';
import { compileRouteTable, type EndpointMemory, type RouteTable } from './route-table.js';
import { proxyUpgrade } from './upgrade.js';
import { UpstreamPools } from './upstream-pools.js';

/** Outcome of a configuration change. */
export type ApplyResult =
  | { readonly ok: true; readonly generation: number }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

interface RunningListener {
  readonly config: ListenerConfig;
  readonly server: Server;
}

/** Options of a {@link ProxyServer}. */
export interface ProxyServerOptions {
  /** Metrics registry to record into; a new one by default. */
  readonly metrics?: ProxyMetrics;
}

function sameListener(a: ListenerConfig, b: ListenerConfig): boolean {
  return a.name === b.name && a.host === b.host && a.port === b.port;
}

/** The router; see the module header. Start it with {@link ProxyServer.start}. */
export class ProxyServer {
  readonly metrics: ProxyMetrics;
  private table: RouteTable;
  private memory: EndpointMemory;
  private readonly pools: UpstreamPools;
  private readonly listeners = new Map<string, RunningListener>();
  private readonly mirrors: MirrorLimiter;
  private draining = false;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  /** Serialises configuration changes so generations are strictly ordered. */
  private changeQueue: Promise<unknown> = Promise.resolve();

  constructor(config: ProxyConfig, options: ProxyServerOptions = {}) {
    this.metrics = options.metrics ?? new ProxyMetrics();
    this.pools = new UpstreamPools({ keepAliveTimeoutMs: 4_000 });
    const compiled = compileRouteTable(config, 1, this.pools, this.metrics, new Map());
    this.table = compiled.table;
    this.memory = compiled.memory;
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

  /** Binds every listener. */
  async start(): Promise<void> {
    for (const listener of this.table.config.listeners) await this.openListener(listener);
  }

  /** Bound address of a listener (its real port when configured with port 0). */
  address(listener = this.table.config.listeners[0]?.name ?? 'default'): { host: string; port: number } {
    const running = this.listeners.get(listener);
    if (!running) throw new AviaryError('AVIARY_LISTENER_UNKNOWN', `listener "${listener}" is not running`);
    const info = running.server.address() as AddressInfo;
    return { host: info.address, port: info.port };
  }

  private async openListener(config: ListenerConfig): Promise<void> {
    const limits = this.table.config.limits;
    const server = createServer({
      maxHeaderSize: limits.maxHeaderBytes,
      headersTimeout: limits.headersTimeout,
      requestTimeout: limits.requestBodyTimeout,
      keepAliveTimeout: limits.keepAliveTimeout,
      noDelay: true,
    });
    server.on('request', (req, res) => this.handleRequest(config.name, req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.handleUpgrade(config.name, req, socket, head),
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.listeners.set(config.name, { config, server });
  }

  /**
   * Validates and applies a whole configuration atomically. A rejected one leaves the
   * running configuration untouched and lists every issue with its path. When
   * `expectedGeneration` is given and differs from the current one, nothing changes.
   */
  applyConfig(input: unknown, expectedGeneration?: number): Promise<ApplyResult> {
    const change = this.changeQueue.then(() => this.applyNow(input, expectedGeneration));
    this.changeQueue = change.catch(() => undefined);
    return change;
  }

  private async applyNow(input: unknown, expectedGeneration: number | undefined): Promise<ApplyResult> {
    if (expectedGeneration !== undefined && expectedGeneration !== this.table.generation) {
      return {
        ok: false,
        issues: [
          {
            path: 'generation',
            message: `expected generation ${expectedGeneration}, but the router is at ${this.table.generation}; reload and retry`,
          },
        ],
      };
    }
    const parsed = parseWithSchema(proxyConfigSchema, input);
    if (!parsed.ok) return parsed;
    const config = parsed.value;
    const opened: string[] = [];
    for (const listener of config.listeners) {
      const running = this.listeners.get(listener.name);
      if (running && sameListener(running.config, listener)) continue;
      if (running) {
        return {
          ok: false,
          issues: [
            {
              path: `listeners`,
              message: `listener "${listener.name}" cannot change address at runtime; add a new listener instead`,
            },
          ],
        };
      }
      try {
        await this.openListener(listener);
        opened.push(listener.name);
      } catch (err) {
        for (const name of opened) this.closeListener(name);
        const index = config.listeners.indexOf(listener);
        return {
          ok: false,
          issues: [
            {
              path: `listeners[${index}]`,
              message: `cannot listen on ${listener.host}:${listener.port}: ${(err as Error).message}`,
            },
          ],
        };
      }
    }
    const generation = this.table.generation + 1;
    const compiled = compileRouteTable(config, generation, this.pools, this.metrics, this.memory);
    this.table = compiled.table;
    this.memory = compiled.memory;
    this.metrics.generation = generation;
    this.mirrors.maxInFlight = config.limits.maxMirrorsInFlight;
    this.applyLimits(config);
    this.pools.releaseUnused(generation, config.limits.drainTimeout);
    for (const name of [...this.listeners.keys()]) {
      if (!config.listeners.some((l) => l.name === name)) this.closeListener(name);
    }
    return { ok: true, generation };
  }

  /**
   * Applies `change(current)` as the next configuration. The change runs in the same queue
   * as every other change, so read-modify-write updates from several callers never lose
   * each other's edits. A throw from `change` rejects the returned promise.
   */
  updateConfig(change: (current: ProxyConfig) => unknown): Promise<ApplyResult> {
    const next = this.changeQueue.then(() =>
      this.applyNow(change(structuredClone(this.table.config)), undefined),
    );
    this.changeQueue = next.catch(() => undefined);
    return next;
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
    const next = this.changeQueue.then(() => {
      const config = structuredClone(this.table.config);
      const svcIndex = config.services.findIndex((s) => s.name === service);
      const svc = config.services[svcIndex];
      if (!svc)
        return { ok: false as const, issues: [{ path: 'service', message: `unknown service "${service}"` }] };
      const target = svc.routes.find((r) => r.name === route);
      if (!target) {
        return {
          ok: false as const,
          issues: [
            {
              path: `services[${svcIndex}].routes`,
              message: `unknown route "${route}" in service "${service}"`,
            },
          ],
        };
      }
      target.targets = Object.entries(weights).map(([version, weight]) => ({ version, weight }));
      return this.applyNow(config, expectedGeneration);
    });
    this.changeQueue = next.catch(() => undefined);
    return next;
  }

  /**
   * Applies changed client limits to listeners already open. `maxHeaderBytes` is fixed when
   * a listener opens (Node's parser takes it at creation); it applies to new listeners.
   */
  private applyLimits(config: ProxyConfig): void {
    for (const { server } of this.listeners.values()) {
      server.headersTimeout = config.limits.headersTimeout;
      server.requestTimeout = config.limits.requestBodyTimeout;
      server.keepAliveTimeout = config.limits.keepAliveTimeout;
    }
  }

  private closeListener(name: string): void {
    const running = this.listeners.get(name);
    if (!running) return;
    this.listeners.delete(name);
    running.server.close();
    running.server.closeIdleConnections();
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
    addForwardingHeaders(headers, req.socket.remoteAddress, 'http');
    if (route.requestHeaders) applyHeaderOps(headers, route.requestHeaders);
    const mirrored = route.mirror !== undefined && Math.random() * 100 < route.mirror.percent;
    const go = (body: RequestBody): void => {
      if (mirrored)
        sendMirror(route, req.method ?? 'GET', decision.path, headers, body, this.metrics, this.mirrors);
      this.forward(req, res, decision, headers, body, startedAt);
    };
    if (!hasBody(req)) go({ kind: 'none' });
    else if (route.retry === undefined && !mirrored) go({ kind: 'stream', stream: req });
    else {
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

  private handleUpgrade(listener: string, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const decision = routeRequest(this.table, listener, req);
    if (!('route' in decision)) {
      socket.end(`HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
      return;
    }
    const version = decision.target.version;
    const endpoint = version.endpoints.pick();
    if (!endpoint) {
      socket.end(`HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
      return;
    }
    const headers = withoutHopByHop(req.headers, true);
    addForwardingHeaders(headers, req.socket.remoteAddress, 'http');
    const startedAt = performance.now();
    proxyUpgrade(req, socket, head, endpoint, decision.path, headers, (status) => {
      const stats = version.stats.get(endpoint.address) ?? version.stats.get('none')!;
      this.metrics.recordRequest(
        stats,
        version.window,
        Date.now(),
        status,
        performance.now() - startedAt,
        undefined,
      );
    });
  }

  /**
   * Stops accepting connections, waits for requests in flight (up to the configured drain
   * timeout), then closes every connection and upstream pool.
   */
  async close(): Promise<void> {
    this.draining = true;
    const servers = [...this.listeners.values()].map((l) => l.server);
    this.listeners.clear();
    const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    servers.forEach((s) => s.closeIdleConnections());
    const timeout = this.table.config.limits.drainTimeout;
    if (this.inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeout);
        }),
      ]);
      clearTimeout(timer);
    }
    servers.forEach((s) => s.closeAllConnections());
    await Promise.all(closed);
    await this.pools.closeAll(1_000);
  }
}
