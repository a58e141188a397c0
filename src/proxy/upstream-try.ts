/**
 * One upstream try of an exchange: undici's dispatch-handler callbacks, the per-try timer,
 * and cancellation that works whether or not undici has handed over its controller yet.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Endpoint } from './endpoint-set.js';
import { TryCancelled } from './upstream-failure.js';

/** What a try reports to the exchange that owns it (the `Exchange` of forwarder.ts). */
export interface UpstreamTryOwner {
  /** Response headers arrived; returns false when the try is discarded for a retry. */
  onResponseStart(
    attempt: UpstreamTry,
    status: number,
    headers: IncomingHttpHeaders,
    statusText: string | undefined,
  ): boolean;
  /** Response bytes from the try being forwarded. */
  onData(controller: Dispatcher.DispatchController, chunk: Buffer): void;
  /** The upstream response ended, with its trailer fields (empty when there were none). */
  onEnd(attempt: UpstreamTry, trailers: Record<string, unknown>): void;
  /** The try failed before or during the response. */
  onError(attempt: UpstreamTry, err: Error): void;
}

/** The dispatch handler of one upstream try (undici's handler API). */
export class UpstreamTry implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private pendingCancel: Error | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** False once this try's response is being discarded (a retry took over). */
  private forwarding = true;

  constructor(
    private readonly exchange: UpstreamTryOwner,
    readonly endpoint: Endpoint,
  ) {}

  /** Cancels the try as a timeout after `ms` unless the response head arrives first. */
  armTimer(ms: number): void {
    this.timer = setTimeout(() => this.cancel(new TryCancelled('timeout')), ms);
  }

  /** Aborts the try now, or as soon as undici starts it. */
  cancel(reason: Error): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.controller) this.controller.abort(reason);
    else this.pendingCancel = reason;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.pendingCancel) controller.abort(this.pendingCancel);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    if (statusCode < 200) return;
    if (this.timer) clearTimeout(this.timer);
    this.forwarding = this.exchange.onResponseStart(this, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.forwarding) this.exchange.onData(controller, chunk);
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    // undici's HTTP/2 client hands Node's trailer object to a parser that expects HTTP/1's
    // raw list, so the parsed trailers come out empty; the object is still on the controller.
    const raw = (controller as { rawTrailers?: unknown }).rawTrailers;
    const h2Trailers =
      Object.keys(trailers).length === 0 && raw !== null && typeof raw === 'object' && !Array.isArray(raw);
    this.exchange.onEnd(this, h2Trailers ? (raw as Record<string, unknown>) : trailers);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.timer) clearTimeout(this.timer);
    this.exchange.onError(this, error);
  }
}
