/**
 * One client exchange forwarded upstream: tries and retries on the chosen version, the
 * request and per-try timeouts, streaming both ways with backpressure, mapping of upstream
 * failures to 502/503/504, and the metrics record when the exchange ends. Each try is an
 * UpstreamTry (upstream-try.ts); failures are classified in upstream-failure.ts.
 *
 * gRPC calls (grpc.ts) also get: trailers passed through, their `grpc-status` recorded,
 * retries on gRPC statuses while no response byte has reached the client (the head is
 * held until the first message or the status), `grpc-timeout` as a cap on the request
 * timeout, and failures answered as gRPC statuses.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { ErrorKind } from './stats/rolling-window.js';
import type { Endpoint } from './endpoint-set.js';
import {
  GRPC_STATUS,
  grpcStatusOf,
  grpcTimeoutMs,
  httpEquivalent,
  isGrpcRequest,
  statusTrailers,
  takeStatusFields,
} from './grpc.js';
import { forwardableTrailers, responseHead } from './http-headers.js';
import { dispatchOptions, retryDelayMs, type ExchangeInput } from './upstream-request.js';
import { answerFailure, classifyUpstreamError, TryCancelled } from './upstream-failure.js';
import { UpstreamTry, type UpstreamTryOwner } from './upstream-try.js';

export type { ExchangeInput } from './upstream-request.js';

/** Forwards one exchange; see the module header. */
export class Exchange implements UpstreamTryOwner {
  private tries = 0;
  private current: UpstreamTry | undefined;
  private headSent = false;
  private finished = false;
  private requestTimer: NodeJS.Timeout | undefined;
  private lastEndpoint: Endpoint | undefined;
  private errorKind: ErrorKind | undefined;
  /** True for a gRPC call. */
  private readonly grpc: boolean;
  /** gRPC status of the call once known (trailers, trailers-only head, or the proxy's own answer). */
  private grpcStatus: number | undefined;
  /** A gRPC head held back while a retry on its status is still possible. */
  private heldHead: { status: number; headers: OutgoingHttpHeaders } | undefined;
  /** Status fields of a trailers-only upstream answer, sent as trailers (see takeStatusFields). */
  private headStatusFields: Record<string, string | string[]> = {};
  /** The request timeout in force: the route's, capped by the call's `grpc-timeout`. */
  private readonly timeoutMs: number | undefined;
  status = 0;

  constructor(private readonly input: ExchangeInput) {
    this.grpc = isGrpcRequest(input.req.headers);
    const routeTimeout = input.route.config.timeout;
    const deadline = this.grpc ? grpcTimeoutMs(input.req.headers) : undefined;
    const timeouts = [routeTimeout, deadline].filter((t): t is number => t !== undefined && t > 0);
    this.timeoutMs = timeouts.length > 0 ? Math.min(...timeouts) : undefined;
    if (this.timeoutMs !== undefined) {
      this.requestTimer = setTimeout(() => this.onRequestTimeout(), this.timeoutMs);
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
    endpoint.active++;
    const route = input.route.config;
    if (this.grpc && input.headers['grpc-timeout'] !== undefined && this.timeoutMs !== undefined) {
      // The upstream gets what is left of the call's deadline, as gRPC proxies pass it on.
      const left = this.timeoutMs - (performance.now() - input.startedAt);
      input.headers['grpc-timeout'] = `${Math.max(1, Math.ceil(left))}m`;
    }
    const options = dispatchOptions(input);
    const perTry = route.retries?.perTryTimeout;
    if (perTry !== undefined && perTry > 0) attempt.armTimer(perTry);
    endpoint.pool.dispatch(options, attempt);
  }

  private statsFor(endpoint: Endpoint | undefined) {
    const stats = this.input.version.stats;
    return (endpoint && stats.get(endpoint.address)) ?? stats.get('none')!;
  }

  private canRetry(): boolean {
    const { body } = this.input;
    return (
      !this.finished &&
      !this.headSent &&
      this.tries < this.maxTries &&
      body.kind !== 'stream' &&
      (body.kind !== 'replayable' || body.body.replayable)
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
    // A gRPC call's health verdict waits for its status (onEnd), as Envoy's outlier
    // detection counts the HTTP status a gRPC status stands for.
    else if (!this.grpc || status !== 200) set.onSuccess(attempt.endpoint);
    const retry = this.input.route.retry;
    if (retry?.retriesStatus(status) && this.canRetry()) {
      this.retryLater();
      return false;
    }
    const { input } = this;
    const out = responseHead(headers, input.route.responseHeaders, input.affinityCookie);
    this.status = status;
    if (this.grpc) {
      // A trailers-only answer carries the call's status in its head.
      this.grpcStatus = grpcStatusOf(headers);
      this.headStatusFields = takeStatusFields(out, headers);
      if (this.grpcStatus !== undefined && retry?.retriesGrpc(this.grpcStatus) && this.canRetry()) {
        this.retryLater();
        return false;
      }
      if (retry?.grpc && this.canRetry()) {
        this.heldHead = { status, headers: out };
        return true;
      }
    }
    this.headSent = true;
    // HTTP/2 has no reason phrase (RFC 9113 §8.3.2).
    if (statusText && input.req.httpVersionMajor < 2) input.res.writeHead(status, statusText, out);
    else input.res.writeHead(status, out);
    return true;
  }

  private sendHeldHead(): void {
    const held = this.heldHead;
    if (!held) return;
    this.heldHead = undefined;
    this.headSent = true;
    this.input.res.writeHead(held.status, held.headers);
  }

  /** Response bytes from the current try; pauses upstream while the client is slow. */
  onData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.sendHeldHead();
    const res = this.input.res;
    if (!res.write(chunk)) {
      controller.pause();
      res.once('drain', () => controller.resume());
    }
  }

  onEnd(attempt: UpstreamTry, trailers: Record<string, unknown>): void {
    attempt.endpoint.active--;
    if (attempt !== this.current || this.finished) return;
    if (this.grpc) {
      // gRPC ends every call with grpc-status in the trailers (or a trailers-only head); a
      // call without one failed (PROTOCOL-HTTP2.md).
      this.grpcStatus = grpcStatusOf(trailers) ?? this.grpcStatus ?? GRPC_STATUS.UNKNOWN;
      const endpoints = this.input.version.endpoints;
      if (this.status === 200) {
        if (httpEquivalent(this.grpcStatus) >= 500) endpoints.onFailure(attempt.endpoint);
        else endpoints.onSuccess(attempt.endpoint);
      }
      if (this.heldHead && this.input.route.retry?.retriesGrpc(this.grpcStatus) && this.canRetry()) {
        this.heldHead = undefined;
        this.retryLater();
        return;
      }
    }
    this.sendHeldHead();
    const res = this.input.res;
    const forwarded = { ...this.headStatusFields, ...forwardableTrailers(trailers) };
    if (Object.keys(forwarded).length > 0) res.addTrailers(forwarded);
    res.end();
    this.finish(attempt.endpoint);
  }

  /** A try failed before or during the response. */
  onError(attempt: UpstreamTry, err: Error): void {
    attempt.endpoint.active--;
    if (attempt !== this.current || this.finished) return;
    if (err instanceof TryCancelled && (err.kind === 'client-gone' || err.kind === 'superseded')) return;
    const kind = classifyUpstreamError(err);
    this.input.version.endpoints.onFailure(attempt.endpoint);
    if (this.heldHead) {
      // The head never reached the client, so the call can still be answered as a failure.
      this.heldHead = undefined;
      this.status = 0;
    }
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
    this.heldHead = undefined;
    if (this.headSent && this.grpc) {
      // A gRPC call past its deadline still ends cleanly: its status goes in the trailers.
      this.errorKind = 'timeout';
      this.grpcStatus = GRPC_STATUS.DEADLINE_EXCEEDED;
      this.input.res.addTrailers(statusTrailers(this.grpcStatus, 'deadline exceeded'));
      this.input.res.end();
      this.finish(attempt?.endpoint);
    } else if (this.headSent) {
      this.errorKind = 'timeout';
      this.input.res.destroy(new Error('upstream request timeout'));
      this.finish(attempt?.endpoint);
    } else {
      this.fail('timeout', `no complete answer within ${String(this.timeoutMs)} ms`, attempt?.endpoint);
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
    const text = `(service ${this.input.route.service}, version ${this.input.version.name}${endpoint ? `, endpoint ${endpoint.address}` : ''}): ${detail}`;
    const answered = answerFailure(this.input.res, kind, text, this.grpc);
    this.status = answered.status;
    this.grpcStatus = answered.grpcStatus;
    this.finish(endpoint);
  }

  private finish(endpoint: Endpoint | undefined): void {
    if (this.finished) return;
    this.finished = true;
    if (this.requestTimer) clearTimeout(this.requestTimer);
    const { input } = this;
    const latencyMs = performance.now() - input.startedAt;
    const stats = this.statsFor(endpoint);
    // A gRPC call counts as the HTTP status its gRPC status stands for, so an UNAVAILABLE
    // answered with HTTP 200 is a server error to the checks and the judge.
    let status = this.status;
    if (this.grpc && this.grpcStatus !== undefined && status === 200) {
      status = httpEquivalent(this.grpcStatus);
    }
    if (this.grpc && this.grpcStatus !== undefined) stats.grpcStatus[this.grpcStatus]!++;
    input.metrics.recordRequest(stats, input.version.window, Date.now(), status, latencyMs, this.errorKind);
    input.onDone();
  }
}
