/**
 * One client exchange forwarded upstream: tries and retries on the chosen version, the
 * request and per-try timeouts, streaming both ways with backpressure, mapping of upstream
 * failures to 502/503/504, and the metrics record when the exchange ends. Each try is an
 * UpstreamTry (upstream-try.ts); failures are classified in upstream-failure.ts.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { ProxyMetrics } from './stats/proxy-metrics.js';
import type { ErrorKind } from './stats/rolling-window.js';
import type { Endpoint } from './endpoint-set.js';
import { applyHeaderOps, withoutHopByHop } from './http-headers.js';
import type { RequestBody } from './request-body.js';
import type { CompiledRoute, CompiledVersion } from './route-table.js';
import { classifyUpstreamError, FAILURE_STATUS, FAILURE_TEXT, TryCancelled } from './upstream-failure.js';
import { UpstreamTry, type UpstreamTryOwner } from './upstream-try.js';

/** Envoy's retry back-off: fully jittered exponential, 25 ms base. */
function retryDelayMs(retry: number): number {
  return Math.random() * 25 * 2 ** Math.min(retry - 1, 6);
}

/** Everything the forwarder needs to know about one exchange. */
export interface ExchangeInput {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly route: CompiledRoute;
  readonly version: CompiledVersion;
  readonly method: string;
  /** Upstream path with query, after rewrites. */
  readonly path: string;
  readonly headers: Record<string, string | string[]>;
  readonly body: RequestBody;
  /** `Set-Cookie` value pinning the client to this version, when session affinity asks. */
  readonly affinityCookie: string | undefined;
  readonly startedAt: number;
  readonly metrics: ProxyMetrics;
  readonly onDone: () => void;
}

/** Forwards one exchange; see the module header. */
export class Exchange implements UpstreamTryOwner {
  private tries = 0;
  private current: UpstreamTry | undefined;
  private headSent = false;
  private finished = false;
  private requestTimer: NodeJS.Timeout | undefined;
  private lastEndpoint: Endpoint | undefined;
  private errorKind: ErrorKind | undefined;
  status = 0;

  constructor(private readonly input: ExchangeInput) {
    const timeout = input.route.config.timeout;
    if (timeout !== undefined && timeout > 0) {
      this.requestTimer = setTimeout(() => this.onRequestTimeout(), timeout);
    }
    input.res.once('close', () => this.onClientClose());
  }

  /** Starts the first try. */
  start(): void {
    this.startTry();
  }

  private get maxTries(): number {
    return 1 + (this.input.route.retry ? (this.input.route.config.retries?.attempts ?? 0) : 0);
  }

  private startTry(): void {
    if (this.finished) return;
    const endpoint = this.input.version.endpoints.pick(this.lastEndpoint);
    if (!endpoint) {
      this.fail('no-endpoint', 'the version has no endpoints');
      return;
    }
    this.tries++;
    if (this.tries > 1) this.statsFor(endpoint).retries++;
    this.lastEndpoint = endpoint;
    const attempt = new UpstreamTry(this, endpoint);
    this.current = attempt;
    const { input } = this;
    const body = input.body;
    endpoint.active++;
    const route = input.route.config;
    const options: Dispatcher.DispatchOptions = {
      path: input.path,
      method: input.method,
      headers: input.headers,
      body: body.kind === 'none' ? null : body.kind === 'buffered' ? body.data : body.stream,
      // "Idle" covers the wait for the response head too (Envoy's route idle_timeout):
      // undici's headers timer restarts while the request body is still being written.
      bodyTimeout: route.idleTimeout ?? 0,
      headersTimeout: route.idleTimeout ?? 0,
    };
    const perTry = route.retries?.perTryTimeout;
    if (perTry !== undefined && perTry > 0) attempt.armTimer(perTry);
    endpoint.pool.dispatch(options, attempt);
  }

  private statsFor(endpoint: Endpoint | undefined) {
    const stats = this.input.version.stats;
    return (endpoint && stats.get(endpoint.address)) ?? stats.get('none')!;
  }

  private canRetry(): boolean {
    return (
      !this.finished && !this.headSent && this.tries < this.maxTries && this.input.body.kind !== 'stream'
    );
  }

  /** Called by a try when response headers arrive; returns false when the try is discarded for a retry. */
  onResponseStart(
    attempt: UpstreamTry,
    status: number,
    headers: IncomingHttpHeaders,
    statusText: string | undefined,
  ): boolean {
    if (attempt !== this.current || this.finished) return false;
    const set = this.input.version.endpoints;
    if (status >= 500) set.onFailure(attempt.endpoint);
    else set.onSuccess(attempt.endpoint);
    if (this.input.route.retry?.retriesStatus(status) && this.canRetry()) {
      this.retryLater();
      return false;
    }
    const res = this.input.res;
    const out = withoutHopByHop(headers);
    const ops = this.input.route.responseHeaders;
    if (ops) applyHeaderOps(out, ops);
    if (this.input.affinityCookie !== undefined) {
      const existing = out['set-cookie'];
      out['set-cookie'] =
        existing === undefined
          ? [this.input.affinityCookie]
          : [...[existing].flat(), this.input.affinityCookie];
    }
    this.status = status;
    this.headSent = true;
    if (statusText) res.writeHead(status, statusText, out);
    else res.writeHead(status, out);
    return true;
  }

  /** Response bytes from the current try; pauses upstream while the client is slow. */
  onData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    const res = this.input.res;
    if (!res.write(chunk)) {
      controller.pause();
      res.once('drain', () => controller.resume());
    }
  }

  onEnd(attempt: UpstreamTry): void {
    attempt.endpoint.active--;
    if (attempt !== this.current || this.finished) return;
    this.input.res.end();
    this.finish(attempt.endpoint);
  }

  /** A try failed before or during the response. */
  onError(attempt: UpstreamTry, err: Error): void {
    attempt.endpoint.active--;
    if (attempt !== this.current || this.finished) return;
    if (err instanceof TryCancelled && (err.kind === 'client-gone' || err.kind === 'superseded')) return;
    const kind = classifyUpstreamError(err);
    this.input.version.endpoints.onFailure(attempt.endpoint);
    if (this.headSent) {
      // The status line is gone; the only honest signal left is to cut the response short.
      this.errorKind = kind;
      this.input.res.destroy(err);
      this.finish(attempt.endpoint);
      return;
    }
    if (this.input.route.retry?.retriesFailure(kind) && this.canRetry()) {
      this.retryLater();
      return;
    }
    this.fail(kind, (err as { code?: string }).code ?? err.message, attempt.endpoint);
  }

  private retryLater(): void {
    this.current = undefined;
    const timer = setTimeout(() => this.startTry(), retryDelayMs(this.tries));
    timer.unref();
  }

  private onRequestTimeout(): void {
    if (this.finished) return;
    const attempt = this.current;
    this.current = undefined;
    attempt?.cancel(new TryCancelled('timeout'));
    if (this.headSent) {
      this.errorKind = 'timeout';
      this.input.res.destroy(new Error('upstream request timeout'));
      this.finish(attempt?.endpoint);
    } else {
      this.fail(
        'timeout',
        `no complete answer within ${String(this.input.route.config.timeout)} ms`,
        attempt?.endpoint,
      );
    }
  }

  private onClientClose(): void {
    if (this.finished) return;
    // The client went away (or the response was cut): stop the upstream work too.
    const attempt = this.current;
    this.current = undefined;
    attempt?.cancel(new TryCancelled('client-gone'));
    if (!this.headSent) this.status = 499;
    this.finish(attempt?.endpoint);
  }

  /** Answers the client with a short error body naming what failed. */
  private fail(kind: ErrorKind, detail: string, endpoint?: Endpoint): void {
    this.errorKind = kind;
    const status = FAILURE_STATUS[kind];
    this.status = status;
    const res = this.input.res;
    if (!res.headersSent && !res.destroyed) {
      const body = `${FAILURE_TEXT[kind]} (service ${this.input.route.service}, version ${this.input.version.name}${endpoint ? `, endpoint ${endpoint.address}` : ''}): ${detail}\n`;
      res.writeHead(status, {
        'content-type': 'text/plain; charset=utf-8',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    }
    this.finish(endpoint);
  }

  private finish(endpoint: Endpoint | undefined): void {
    if (this.finished) return;
    this.finished = true;
    if (this.requestTimer) clearTimeout(this.requestTimer);
    const { input } = this;
    const latencyMs = performance.now() - input.startedAt;
    input.metrics.recordRequest(
      this.statsFor(endpoint),
      input.version.window,
      Date.now(),
      this.status,
      latencyMs,
      this.errorKind,
    );
    input.onDone();
  }
}
