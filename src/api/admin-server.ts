/**
 * The proxy's admin API (`aviary proxy`), on loopback by default. Reads are open (health,
 * metrics, config, per-version traffic); every mutation needs the bearer token. Changes are
 * atomic and answer with the new generation, or with every issue and its path.
 *
 *   GET  /healthz                                   liveness
 *   GET  /metrics                                   Prometheus text format (with this process's event-loop delay)
 *   GET  /config                                    {generation, config}
 *   PUT  /config                                    replace the whole config (JSON or YAML); If-Match: <generation>
 *   PUT  /services/{service}/routes/{route}/weights {"weights": {"v1": 90, "v2": 10}}; If-Match: <generation>
 *   GET  /services/{service}/versions/{version}/traffic?seconds=60
 *   GET  /services/{service}/versions/{version}/traffic?from=<ms>&to=<ms>&step=<ms>
 *        {buckets: [...]}: consecutive buckets of `step` ending at `to`, each with exact
 *        counts and latency sketches, which a controller in another process sums over instances
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { ConfigError } from '../config/config-error.js';
import { parseDocumentText } from '../config/document.js';
import { httpStatusOf, type ErrorCode } from '../error-catalogue.js';
import type { ApplyResult, ProxyServer } from '../proxy/proxy-server.js';
import { EventLoopDelay } from './event-loop-delay.js';
import {
  closeServer,
  listenJson,
  readBody,
  requestTarget,
  requireToken,
  sendError,
  sendJson,
} from './http-json.js';

const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
/** Most buckets one traffic read may ask for: an hour of one-second buckets. */
const MAX_TRAFFIC_BUCKETS = 3600;

/** Options of the admin API. */
export interface AdminServerOptions {
  /** Bind address; default 127.0.0.1. */
  readonly host?: string;
  /** Port; 0 picks a free one. */
  readonly port: number;
  /** Bearer token required by every mutation. */
  readonly token: string;
}

/** Sends an error with the admin API's status for `code` from the error catalogue. */
function sendAdminError(res: ServerResponse, code: ErrorCode, message: string, extra: object = {}): void {
  sendError(res, code, message, extra, httpStatusOf(code, 'admin'));
}

function expectedGeneration(req: IncomingMessage): number | undefined | 'invalid' {
  const header = req.headers['if-match'];
  if (header === undefined) return undefined;
  const n = Number(String(header).replace(/"/g, ''));
  return Number.isInteger(n) && n > 0 ? n : 'invalid';
}

/** A mutation's `If-Match` generation (undefined without the header) and its parsed body. */
interface Mutation {
  readonly expected: number | undefined;
  readonly body: unknown;
}

/**
 * Reads a mutation: the token, then `If-Match`, then the body (JSON or YAML, at most
 * `limitBytes`). When one of them is wrong it answers the error and returns undefined; a body
 * that does not parse is answered with its issues and `rejected` as the message, or else the
 * parser's own message.
 */
async function readMutation(
  req: IncomingMessage,
  res: ServerResponse,
  token: string,
  limitBytes: number,
  rejected?: string,
): Promise<Mutation | undefined> {
  if (!requireToken(req, res, token)) return undefined;
  const expected = expectedGeneration(req);
  if (expected === 'invalid') {
    sendAdminError(res, 'AVIARY_BAD_REQUEST', 'If-Match: expected a generation number');
    return undefined;
  }
  try {
    return { expected, body: parseDocumentText(await readBody(req, limitBytes), 'request body') };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    sendAdminError(res, err.code, rejected ?? err.message, { issues: err.issues });
    return undefined;
  }
}

function sendApplyResult(res: ServerResponse, result: ApplyResult): void {
  if (result.ok) {
    sendJson(res, 200, { generation: result.generation });
    return;
  }
  const conflict = result.issues.length === 1 && result.issues[0]?.path === 'generation';
  sendAdminError(
    res,
    conflict ? 'AVIARY_GENERATION_CONFLICT' : 'AVIARY_CONFIG_INVALID',
    'configuration rejected; the running one is unchanged',
    {
      issues: result.issues,
    },
  );
}

/** Admin API bound to one {@link ProxyServer}. */
export class AdminServer {
  private server: Server | undefined;
  private readonly eventLoop = new EventLoopDelay({ prefix: 'aviary_proxy' });

  constructor(
    private readonly proxy: ProxyServer,
    private readonly options: AdminServerOptions,
  ) {}

  async start(): Promise<{ host: string; port: number }> {
    const { server, host, port } = await listenJson(
      (req, res) => this.handle(req, res),
      this.options.port,
      this.options.host,
      'admin',
    );
    this.server = server;
    this.eventLoop.start();
    return { host, port };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { url, method, parts } = requestTarget(req, 'http://admin');
    if (method === 'GET' && url.pathname === '/healthz')
      return sendJson(res, 200, { status: 'ok', generation: this.proxy.generation });
    if (method === 'GET' && url.pathname === '/metrics') {
      const text = this.proxy.metrics.render() + this.eventLoop.render();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(text);
      return;
    }
    if (url.pathname === '/config') {
      if (method === 'GET')
        return sendJson(res, 200, { generation: this.proxy.generation, config: this.proxy.config });
      if (method === 'PUT' || method === 'POST') {
        const change = await readMutation(
          req,
          res,
          this.options.token,
          MAX_CONFIG_BYTES,
          'configuration rejected; the running one is unchanged',
        );
        if (change) sendApplyResult(res, await this.proxy.applyConfig(change.body, change.expected));
        return;
      }
    }
    if (parts[0] === 'services' && parts[2] === 'routes' && parts[4] === 'weights' && parts.length === 5) {
      if (method !== 'PUT' && method !== 'POST') return sendAdminError(res, 'AVIARY_METHOD', 'use PUT');
      const change = await readMutation(req, res, this.options.token, 64 * 1024);
      if (!change) return;
      const weights = (change.body as { weights?: unknown } | null)?.weights;
      if (typeof weights !== 'object' || weights === null || Array.isArray(weights)) {
        return sendAdminError(
          res,
          'AVIARY_CONFIG_INVALID',
          'weights: expected an object of version name to weight, e.g. {"v1": 90, "v2": 10}',
        );
      }
      return sendApplyResult(
        res,
        await this.proxy.setRouteWeights(
          parts[1]!,
          parts[3]!,
          weights as Record<string, number>,
          change.expected,
        ),
      );
    }
    if (
      method === 'GET' &&
      parts[0] === 'services' &&
      parts[2] === 'versions' &&
      parts[4] === 'traffic' &&
      parts.length === 5
    ) {
      if (url.searchParams.has('from'))
        return this.sendTrafficBuckets(res, parts[1]!, parts[3]!, url.searchParams);
      const seconds = Number(url.searchParams.get('seconds') ?? '60');
      if (!Number.isFinite(seconds) || seconds <= 0)
        return sendAdminError(res, 'AVIARY_BAD_REQUEST', 'seconds: expected a number > 0');
      const now = Date.now();
      const snap = this.proxy.metrics
        .versionTraffic(parts[1]!, parts[3]!)
        .snapshot(now - seconds * 1000, now);
      const { latency, mirroredLatency, ...counts } = snap;
      return sendJson(res, 200, {
        ...counts,
        p50: latency.quantile(0.5),
        p90: latency.quantile(0.9),
        p99: latency.quantile(0.99),
        latency: latency.toJSON(),
        mirroredLatency: mirroredLatency.toJSON(),
      });
    }
    sendAdminError(res, 'AVIARY_NOT_FOUND', `no admin endpoint ${method} ${url.pathname}`);
  }

  /** The `from`/`to`/`step` form of the traffic endpoint (see the module header). */
  private sendTrafficBuckets(
    res: ServerResponse,
    service: string,
    version: string,
    query: URLSearchParams,
  ): void {
    const [from = NaN, to = NaN, step = NaN] = ['from', 'to', 'step'].map((name) => Number(query.get(name)));
    if (!Number.isInteger(from) || !Number.isInteger(to) || to <= from)
      return sendAdminError(
        res,
        'AVIARY_BAD_REQUEST',
        'from, to: expected integer milliseconds with from < to',
      );
    if (!Number.isInteger(step) || step <= 0 || (to - from) / step > MAX_TRAFFIC_BUCKETS)
      return sendAdminError(
        res,
        'AVIARY_BAD_REQUEST',
        `step: expected integer milliseconds > 0 giving at most ${MAX_TRAFFIC_BUCKETS} buckets`,
      );
    const buckets = this.proxy.metrics.trafficBuckets(service, version, from, to, step);
    sendJson(res, 200, {
      buckets: buckets.map((b) => ({
        requests: b.requests,
        errors5xx: b.errors5xx,
        mirrored: b.mirrored,
        mirroredErrors: b.mirroredErrors,
        latency: b.latency.toJSON(),
        mirroredLatency: b.mirroredLatency.toJSON(),
      })),
    });
  }

  async close(): Promise<void> {
    this.eventLoop.stop();
    await closeServer(this.server);
  }
}
