/**
 * The proxy's admin API (`aviary proxy`), on loopback by default. Reads are open (health,
 * metrics, config, per-version traffic); every mutation needs the bearer token. Changes are
 * atomic and answer with the new generation, or with every issue and its path.
 *
 *   GET  /healthz                                   liveness
 *   GET  /metrics                                   Prometheus text format
 *   GET  /config                                    {generation, config}
 *   PUT  /config                                    replace the whole config (JSON or YAML); If-Match: <generation>
 *   PUT  /services/{service}/routes/{route}/weights {"weights": {"v1": 90, "v2": 10}}; If-Match: <generation>
 *   GET  /services/{service}/versions/{version}/traffic?seconds=60
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { ConfigError } from '../config/config-error.js';
import { parseDocumentText } from '../config/document.js';
import { httpStatusOf, type ErrorCode } from '../error-catalogue.js';
import type { ApplyResult, ProxyServer } from '../proxy/proxy-server.js';
import { closeServer, listenJson, readBody, requireToken, sendError, sendJson } from './http-json.js';

const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

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
    return { host, port };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    const parts = url.pathname
      .split('/')
      .filter((p) => p !== '')
      .map(decodeURIComponent);
    const method = req.method ?? 'GET';
    if (method === 'GET' && url.pathname === '/healthz')
      return sendJson(res, 200, { status: 'ok', generation: this.proxy.generation });
    if (method === 'GET' && url.pathname === '/metrics') {
      const text = this.proxy.metrics.render();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(text);
      return;
    }
    if (url.pathname === '/config') {
      if (method === 'GET')
        return sendJson(res, 200, { generation: this.proxy.generation, config: this.proxy.config });
      if (method === 'PUT' || method === 'POST') {
        if (!requireToken(req, res, this.options.token)) return;
        const expected = expectedGeneration(req);
        if (expected === 'invalid')
          return sendAdminError(res, 'AVIARY_BAD_REQUEST', 'If-Match: expected a generation number');
        let document: unknown;
        try {
          document = parseDocumentText(await readBody(req, MAX_CONFIG_BYTES), 'request body');
        } catch (err) {
          if (err instanceof ConfigError)
            return sendAdminError(res, err.code, 'configuration rejected; the running one is unchanged', {
              issues: err.issues,
            });
          throw err;
        }
        return sendApplyResult(res, await this.proxy.applyConfig(document, expected));
      }
    }
    if (parts[0] === 'services' && parts[2] === 'routes' && parts[4] === 'weights' && parts.length === 5) {
      if (method !== 'PUT' && method !== 'POST') return sendAdminError(res, 'AVIARY_METHOD', 'use PUT');
      if (!requireToken(req, res, this.options.token)) return;
      const expected = expectedGeneration(req);
      if (expected === 'invalid')
        return sendAdminError(res, 'AVIARY_BAD_REQUEST', 'If-Match: expected a generation number');
      let body: unknown;
      try {
        body = parseDocumentText(await readBody(req, 64 * 1024), 'request body');
      } catch (err) {
        if (err instanceof ConfigError)
          return sendAdminError(res, err.code, err.message, { issues: err.issues });
        throw err;
      }
      const weights = (body as { weights?: unknown } | null)?.weights;
      if (typeof weights !== 'object' || weights === null || Array.isArray(weights)) {
        return sendAdminError(
          res,
          'AVIARY_CONFIG_INVALID',
          'weights: expected an object of version name to weight, e.g. {"v1": 90, "v2": 10}',
        );
      }
      return sendApplyResult(
        res,
        await this.proxy.setRouteWeights(parts[1]!, parts[3]!, weights as Record<string, number>, expected),
      );
    }
    if (
      method === 'GET' &&
      parts[0] === 'services' &&
      parts[2] === 'versions' &&
      parts[4] === 'traffic' &&
      parts.length === 5
    ) {
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

  async close(): Promise<void> {
    await closeServer(this.server);
  }
}
