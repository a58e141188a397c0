/**
 * Per-version traffic from HAProxy's request log. HAProxy writes one line per request
 * (backend, server slot, status, active time) to a ring that it forwards over a unix socket
 * (0600, in the state directory) to this receiver, which records each request in the same
 * one-second rolling windows as the built-in proxy (src/proxy/stats/rolling-window.ts). The
 * judge and the built-in checks then read exact counts and latency quantiles, which HAProxy's
 * own counters (averages over the last 1024 requests) cannot give.
 * docs/adr/0025-haproxy-router.md says what this costs and when lines can be lost.
 */
import { chmod, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { TrafficBucket, TrafficWindows } from '../../analysis/traffic-source.js';
import { DEFAULT_WINDOW_SECONDS, RollingWindow } from '../../proxy/stats/rolling-window.js';
import { REQUEST_LOG_TAG } from './haproxy-config.js';

/** Which app and version a backend's server slot belongs to now. */
export type SlotResolver = (backend: string, server: string) => { app: string; version: string } | undefined;

/** Receives HAProxy's request log and keeps per-version rolling windows. */
export class HaproxyRequestLog {
  readonly #windows = new Map<string, RollingWindow>();
  readonly #sockets = new Set<Socket>();
  /** Request lines read. */
  lines = 0;
  /** Lines read that named no known slot (HAProxy's own answers, a removed app). */
  unattributed = 0;

  private constructor(
    private readonly server: Server,
    readonly socketPath: string,
    private readonly resolve: SlotResolver,
    private readonly now: () => number,
  ) {}

  /** Listens on `socketPath` (mode 0600). */
  static async start(socketPath: string, resolve: SlotResolver, now = Date.now): Promise<HaproxyRequestLog> {
    await rm(socketPath, { force: true });
    const started: { log?: HaproxyRequestLog } = {};
    const server = createServer((socket) => {
      if (started.log) started.log.#accept(socket);
      else socket.destroy();
    });
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen(socketPath, () => done());
    });
    await chmod(socketPath, 0o600);
    started.log = new HaproxyRequestLog(server, socketPath, resolve, now);
    return started.log;
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    let rest = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) this.record(line);
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.#sockets.delete(socket));
  }

  /** Records one log line: `aviary-request <backend> <server> <status> <active ms>`. */
  record(line: string): void {
    const [tag, backend, server, status, activeMs] = line.trim().split(' ');
    if (tag !== REQUEST_LOG_TAG || backend === undefined || server === undefined) return;
    this.lines++;
    const slot = this.resolve(backend, server);
    if (!slot) {
      this.unattributed++;
      return;
    }
    const code = Number(status);
    this.window(slot.app, slot.version).record(
      this.now(),
      code > 0 ? code : 502,
      Math.max(0, Number(activeMs) || 0),
      undefined,
    );
  }

  /** The rolling window of one version, created on first use. */
  window(app: string, version: string): RollingWindow {
    const key = `${app}\0${version}`;
    let window = this.#windows.get(key);
    if (!window) {
      window = new RollingWindow(DEFAULT_WINDOW_SECONDS);
      this.#windows.set(key, window);
    }
    return window;
  }

  /** The windows as the judge and the dashboard read them. */
  trafficWindows(): TrafficWindows {
    return {
      windowSeconds: DEFAULT_WINDOW_SECONDS,
      buckets: (app, version, fromMs, toMs, stepMs) => {
        if (!(stepMs > 0))
          return Promise.reject(new RangeError(`stepMs: expected a number > 0, got ${stepMs}`));
        const window = this.window(app, version);
        const count = Math.max(1, Math.floor((toMs - fromMs) / stepMs));
        const buckets: TrafficBucket[] = [];
        for (let end = toMs - (count - 1) * stepMs; end <= toMs; end += stepMs)
          buckets.push(window.snapshot(end - stepMs, end));
        return Promise.resolve(buckets);
      },
    };
  }

  /**
   * Prometheus text of the reader's own counters: set beside HAProxy's
   * `haproxy_frontend_http_requests_total`, a shortfall is lines the ring dropped.
   */
  metricsText(): string {
    return [
      '# HELP aviary_haproxy_request_log_lines_total Request-log lines Aviary read from HAProxy.',
      '# TYPE aviary_haproxy_request_log_lines_total counter',
      `aviary_haproxy_request_log_lines_total ${this.lines}`,
      '# HELP aviary_haproxy_request_log_unattributed_total Lines that named no version (no server, a removed app).',
      '# TYPE aviary_haproxy_request_log_unattributed_total counter',
      `aviary_haproxy_request_log_unattributed_total ${this.unattributed}`,
      '',
    ].join('\n');
  }

  /** Stops listening and drops HAProxy's connections. */
  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((done) => this.server.close(() => done()));
    await rm(this.socketPath, { force: true });
  }
}
