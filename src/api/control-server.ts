/**
 * The control API of `aviary up`: JSON over HTTP on loopback. Reads are open; every
 * mutation needs the bearer token and becomes an event with a time and a reason.
 *
 *   GET  /healthz, /metrics (controller and router metrics, this process's event-loop delay)
 *   GET  /api/v1/rollouts                       every app with its status: the controller's
 *                                               rollouts, and apps run from release files
 *                                               (`kind: "release"`, their versions and weights)
 *   GET  /api/v1/rollouts/{app}                 one app: status, checks, processes, routes
 *   GET  /api/v1/rollouts/{app}/events?since=   its event history
 *   GET  /api/v1/events?since=                  every app's events
 *   GET  /api/v1/events/stream                  Server-Sent Events: `event` and `status`
 *   POST /api/v1/rollouts/{app}/promote|abort|pause|resume
 *   POST /api/v1/rollouts/{app}/weights         {"canaryWeight": 30}
 *   POST /api/v1/rollouts/{app}/gates/{gate}/open|close   {"reason": "..."}
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { AviaryError } from '../errors.js';
import type { RolloutController } from '../rollout/controller/controller.js';
import { isGateType } from '../config/app-webhook.js';
import { EventLoopDelay } from './event-loop-delay.js';
import type { OperatorCommand } from '../rollout/step/observations.js';
import {
  closeServer,
  listenJson,
  readBody,
  requestTarget,
  requireToken,
  sendError,
  sendJson,
} from './http-json.js';

/** Extra read-only routes mounted by the embedding command (dashboard, traffic series). */
export type ExtraRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> | boolean;

/**
 * Apps run from release files (the release manager), shown beside the controller's rollouts
 * in the rollout list, the event history and the event stream, so every app is visible
 * whoever runs it.
 */
export interface ReleaseAppsPort {
  /** Apps running from a release file now. */
  apps(): string[];
  /** Their view in the rollout list (`kind: 'release'`). */
  rolloutView(app: string): Promise<{ readonly app: string }>;
  /** Events of every app (or of `app`) after `since` (ms), oldest first. */
  eventsSince(since: number, app?: string): readonly { readonly at: number; readonly app: string }[];
  /** `event` and `status` messages, forwarded to the event stream. */
  on(name: 'event' | 'status', listener: (payload: unknown) => void): unknown;
}

/** Options of the control API. */
export interface ControlServerOptions {
  readonly host?: string;
  readonly port: number;
  readonly token: string;
  /** Extra text appended to /metrics (the router's metrics). */
  readonly extraMetrics?: () => Promise<string>;
  /** Describes one app beyond the controller's view (processes, routes). */
  readonly describe?: (app: string) => Promise<Record<string, unknown>>;
  readonly extraRoutes?: readonly ExtraRoute[];
  /** Apps run from release files; without it only the controller's rollouts are listed. */
  readonly releases?: ReleaseAppsPort;
}

/** Control API bound to a {@link RolloutController}. */
export class ControlServer {
  private server: Server | undefined;
  private readonly streams = new Set<ServerResponse>();
  private readonly eventLoop = new EventLoopDelay({ prefix: 'aviary_controller' });

  constructor(
    private readonly controller: RolloutController,
    private readonly options: ControlServerOptions,
  ) {}

  async start(): Promise<{ host: string; port: number }> {
    const forward = (kind: string) => (payload: unknown) => {
      const frame = `event: ${kind}\ndata: ${JSON.stringify(payload)}\n\n`;
      for (const stream of this.streams) stream.write(frame);
    };
    this.controller.on('event', forward('event'));
    this.controller.on('status', forward('status'));
    this.options.releases?.on('event', forward('event'));
    this.options.releases?.on('status', forward('status'));
    const { server, host, port } = await listenJson(
      (req, res) => this.handle(req, res),
      this.options.port,
      this.options.host,
    );
    this.server = server;
    this.eventLoop.start();
    return { host, port };
  }

  private async body(req: IncomingMessage): Promise<Record<string, unknown>> {
    const text = await readBody(req, 64 * 1024);
    if (text.trim() === '') return {};
    try {
      const value = JSON.parse(text) as unknown;
      if (typeof value === 'object' && value !== null && !Array.isArray(value))
        return value as Record<string, unknown>;
    } catch {
      // Reported below.
    }
    throw new AviaryError('AVIARY_BAD_REQUEST', 'request body: expected a JSON object');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { url, method, parts } = requestTarget(req, 'http://control');
    const by = String(req.headers['x-aviary-user'] ?? 'api');
    for (const route of this.options.extraRoutes ?? []) if (await route(req, res, url)) return;
    if (method === 'GET' && url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (method === 'GET' && url.pathname === '/metrics') {
      const extra = (await this.options.extraMetrics?.()) ?? '';
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(this.controller.metrics.render() + this.eventLoop.render() + extra);
      return;
    }
    if (parts[0] !== 'api' || parts[1] !== 'v1')
      return sendError(res, 'AVIARY_NOT_FOUND', `no endpoint ${method} ${url.pathname}`);
    const since = Number(url.searchParams.get('since') ?? '0') || 0;
    if (method === 'GET' && parts[2] === 'events' && parts[3] === 'stream') return this.stream(req, res);
    if (method === 'GET' && parts[2] === 'events' && parts.length === 3)
      return sendJson(res, 200, this.allEvents(since));
    if (parts[2] !== 'rollouts')
      return sendError(res, 'AVIARY_NOT_FOUND', `no endpoint ${method} ${url.pathname}`);
    if (method === 'GET' && parts.length === 3) return sendJson(res, 200, await this.views());
    const app = parts[3] ?? '';
    const released = this.releasedApps().includes(app);
    if (method === 'GET' && parts.length === 4) {
      const view = released ? await this.options.releases!.rolloutView(app) : this.controller.view(app);
      return sendJson(res, 200, { ...view, ...((await this.options.describe?.(app)) ?? {}) });
    }
    if (method === 'GET' && parts[4] === 'events') {
      const events = released
        ? this.options.releases!.eventsSince(since, app)
        : this.controller.events(app, since);
      return sendJson(res, 200, events);
    }
    if (released && method === 'POST') {
      throw new AviaryError(
        'AVIARY_NOT_FOUND',
        `app ${app} runs from a release file, not a rollout; change its versions and weights with aviary apply -f release.yaml`,
      );
    }
    if (method !== 'POST') return sendError(res, 'AVIARY_METHOD', `use POST for ${url.pathname}`);
    if (!requireToken(req, res, this.options.token)) return;
    const body = await this.body(req);
    const action = parts[4];
    const simple: Record<string, OperatorCommand> = {
      promote: { kind: 'promote' },
      pause: { kind: 'pause' },
      resume: { kind: 'resume' },
      abort: { kind: 'abort', ...(typeof body.reason === 'string' ? { reason: body.reason } : {}) },
    };
    if (action !== undefined && parts.length === 5 && simple[action]) {
      this.controller.command(app, simple[action], by);
      return sendJson(res, 202, { accepted: action, app });
    }
    if (action === 'weights' && parts.length === 5) {
      const weight = body.canaryWeight;
      if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > 100) {
        throw new AviaryError(
          'AVIARY_BAD_REQUEST',
          `canaryWeight: expected a number from 0 to 100, got ${JSON.stringify(weight)}`,
        );
      }
      this.controller.command(app, { kind: 'set-weights', canaryWeight: weight }, by);
      return sendJson(res, 202, { accepted: 'set-weights', app, canaryWeight: weight });
    }
    if (action === 'gates' && parts.length === 7 && (parts[6] === 'open' || parts[6] === 'close')) {
      const gate = parts[5] ?? '';
      if (!isGateType(gate)) {
        throw new AviaryError(
          'AVIARY_BAD_REQUEST',
          `gate "${gate}": expected one of confirm-rollout, confirm-traffic-increase, confirm-promotion, rollback`,
        );
      }
      await this.controller.setGate(
        app,
        gate,
        parts[6] === 'open',
        by,
        typeof body.reason === 'string' ? body.reason : undefined,
      );
      return sendJson(res, 200, { app, gate, open: parts[6] === 'open' });
    }
    sendError(res, 'AVIARY_NOT_FOUND', `no endpoint ${method} ${url.pathname}`);
  }

  private releasedApps(): string[] {
    return this.options.releases?.apps() ?? [];
  }

  /** The controller's rollouts, then the apps run from release files (an app handed over is listed once). */
  private async views(): Promise<unknown[]> {
    const released = this.releasedApps();
    const rollouts = this.controller
      .apps()
      .filter((app) => !released.includes(app))
      .map((app) => this.controller.view(app));
    const releases = await Promise.allSettled(released.map((app) => this.options.releases!.rolloutView(app)));
    return [...rollouts, ...releases.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))];
  }

  /** Every app's events after `since`, the controller's and the release manager's, oldest first. */
  private allEvents(since: number): { readonly at: number }[] {
    const releases = this.options.releases?.eventsSince(since) ?? [];
    return [...this.controller.events(undefined, since), ...releases].sort((a, b) => a.at - b.at);
  }

  private async stream(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.write(`retry: 2000\n\n`);
    for (const view of await this.views()) res.write(`event: status\ndata: ${JSON.stringify(view)}\n\n`);
    this.streams.add(res);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    req.on('close', () => {
      clearInterval(heartbeat);
      this.streams.delete(res);
    });
  }

  async close(): Promise<void> {
    this.eventLoop.stop();
    for (const stream of this.streams) stream.end();
    this.streams.clear();
    await closeServer(this.server);
  }
}
