/**
 * Release-file endpoints of the control API, mounted as an extra route:
 *
 *   GET  /api/v1/releases                 every app run from a release file
 *   GET  /api/v1/apps/{app}/release       its versions, weights, shares and recent events
 *   POST /api/v1/apps/{app}/release       apply a release document (Bearer token)
 *
 * The POST body is the release file as JSON (`aviary apply` converts the YAML). It answers
 * once new versions are ready, the split is set and removed versions are stopped. A rejected
 * release answers 422 with `error.issues[] {path, message}` naming each bad entry.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConfigError } from '../config/config-error.js';
import { AviaryError } from '../errors.js';
import type { ExtraRoute } from './control-server.js';
import { readBody, requireToken, sendError, sendJson } from './http-json.js';

/** Largest release document accepted (a release has at most ten entries). */
const BODY_LIMIT_BYTES = 256 * 1024;

async function documentOf(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req, BODY_LIMIT_BYTES);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AviaryError('AVIARY_BAD_REQUEST', 'request body: expected the release document as JSON');
  }
}

function sendFailure(res: ServerResponse, err: unknown): void {
  if (err instanceof ConfigError) sendError(res, err.code, err.message, { issues: err.issues });
  else if (err instanceof AviaryError) sendError(res, err.code, err.message);
  else if (err instanceof URIError) sendError(res, 'AVIARY_BAD_REQUEST', `request path: ${err.message}`);
  else sendError(res, 'AVIARY_INTERNAL', (err as Error).message);
}

/**
 * What runs release files: the embedded `ReleaseManager` (processes) or the operator's
 * `ClusterReleases` (Deployments, Services and an HTTPRoute).
 */
export interface ReleaseApplier {
  apps(): string[];
  view(app: string): Promise<object>;
  events(app: string): readonly unknown[];
  /** Validates and applies; rejects with a ConfigError naming each bad entry. */
  apply(app: string, document: unknown, by: string): Promise<unknown>;
}

/**
 * The release endpoints over `manager`. Security: applying needs `token` (compared in
 * constant time); reads are open, like the rest of the control API.
 */
export function releaseRoutes(manager: ReleaseApplier, token: string): ExtraRoute {
  return async (req, res, url) => {
    const method = req.method ?? 'GET';
    if (method === 'GET' && url.pathname === '/api/v1/releases') {
      // One app whose view cannot be read (a cluster object gone) leaves the others listed.
      const views = await Promise.allSettled(manager.apps().map((app) => manager.view(app)));
      sendJson(
        res,
        200,
        views.flatMap((view) => (view.status === 'fulfilled' ? [view.value] : [])),
      );
      return true;
    }
    const match = /^\/api\/v1\/apps\/([^/]+)\/release$/.exec(url.pathname);
    if (!match) return false;
    try {
      const app = decodeURIComponent(match[1]!);
      if (method === 'GET') {
        sendJson(res, 200, { ...(await manager.view(app)), events: manager.events(app) });
      } else if (method === 'POST') {
        if (!requireToken(req, res, token)) return true;
        const by = String(req.headers['x-aviary-user'] ?? 'api');
        sendJson(res, 200, await manager.apply(app, await documentOf(req), by));
      } else {
        sendError(res, 'AVIARY_METHOD', `use GET or POST for ${url.pathname}`);
      }
    } catch (err) {
      sendFailure(res, err);
    }
    return true;
  };
}
