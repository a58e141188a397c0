/**
 * Traffic mirroring (Flagger's `mirror`/`mirrorWeight`, Envoy's request mirror policy): a
 * copy of the request goes to another version and its answer is thrown away. The copy is
 * fire-and-forget — it never delays or changes the client's response — and bounded: a slow
 * or dead mirror target can hold at most `maxInFlight` copies, after which copies are dropped.
 */
import type { Dispatcher } from 'undici';
import { performance } from 'node:perf_hooks';
import type { ProxyMetrics } from './stats/proxy-metrics.js';
import type { RequestBody } from './request-body.js';
import type { CompiledRoute } from './route-table.js';

/** Mirrors are cancelled after this long even when the route sets no timeout. */
const DEFAULT_MIRROR_TIMEOUT_MS = 30_000;

/** Counts mirrored requests in flight per route, to bound what a dead mirror can hold. */
export class MirrorLimiter {
  /** Keyed by service and route name, so the count survives configuration swaps. */
  private readonly inFlight = new Map<string, number>();

  /** Limit per route; a configuration change updates it in place. */
  constructor(public maxInFlight: number) {}

  private keyOf(route: CompiledRoute): string {
    return `${route.service}\u0000${route.name}`;
  }

  tryAcquire(route: CompiledRoute): boolean {
    const key = this.keyOf(route);
    const n = this.inFlight.get(key) ?? 0;
    if (n >= this.maxInFlight) return false;
    this.inFlight.set(key, n + 1);
    return true;
  }

  release(route: CompiledRoute): void {
    const key = this.keyOf(route);
    const n = (this.inFlight.get(key) ?? 1) - 1;
    if (n <= 0) this.inFlight.delete(key);
    else this.inFlight.set(key, n);
  }
}

/** Sends a copy of the request to the route's mirror version, if any. */
export function sendMirror(
  route: CompiledRoute,
  method: string,
  path: string,
  headers: Record<string, string | string[]>,
  body: RequestBody,
  metrics: ProxyMetrics,
  limiter: MirrorLimiter,
): void {
  const mirror = route.mirror;
  if (!mirror) return;
  // A streamed body is consumed by the live request; copying it would mean buffering
  // without bound, so such requests are not mirrored.
  if (body.kind === 'stream' || !limiter.tryAcquire(route)) {
    mirror.stats.dropped++;
    return;
  }
  const endpoint = mirror.version.endpoints.pick();
  if (!endpoint) {
    limiter.release(route);
    mirror.stats.dropped++;
    return;
  }
  const host = headers.host;
  const copyHeaders = { ...headers };
  // Envoy marks shadowed requests by suffixing the authority with "-shadow".
  if (typeof host === 'string')
    copyHeaders.host = host.includes(':') ? host.replace(/(:\d+)$/, '-shadow$1') : `${host}-shadow`;
  const startedAt = performance.now();
  let status = 0;
  let done = false;
  let controller: Dispatcher.DispatchController | undefined;
  const finish = (): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    limiter.release(route);
    metrics.recordMirror(
      mirror.stats,
      mirror.version.window,
      Date.now(),
      status,
      performance.now() - startedAt,
    );
  };
  const timer = setTimeout(() => {
    controller?.abort(new Error('mirror timeout'));
    status = 0;
    finish();
  }, route.config.timeout ?? DEFAULT_MIRROR_TIMEOUT_MS);
  timer.unref();
  endpoint.pool.dispatch(
    {
      path,
      method: method,
      headers: copyHeaders,
      body: body.kind === 'buffered' ? body.data : null,
      headersTimeout: 0,
      bodyTimeout: 0,
    },
    {
      onRequestStart: (c) => {
        controller = c;
      },
      onResponseStart: (_c, code) => {
        if (code >= 200) status = code;
      },
      onResponseData: () => {},
      onResponseEnd: finish,
      onResponseError: () => {
        status = 0;
        finish();
      },
    },
  );
}
