/**
 * The release endpoints of the control API over the operator's releases, with the paths and
 * JSON shapes `aviary up` serves (src/api/release-routes.ts), so `aviary apply --api <the
 * operator's control API>` works unchanged:
 *
 *   GET  /api/v1/releases                 every app run from a release file
 *   GET  /api/v1/apps/{app}/release       its versions, weights, shares and recent events
 *   POST /api/v1/apps/{app}/release       apply a release document (Bearer token)
 *
 * A rejected release answers 422 with `error.issues[] {path, message}`. (`releaseRoutes`
 * there takes the embedded `ReleaseManager` class; typed by the methods it calls, it would
 * serve these too, and this file could go.)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExtraRoute } from '../api/control-server.js';
import { readBody, requireToken, sendError, sendJson } from '../api/http-json.js';
import { ConfigError } from '../config/config-error.js';
import { AviaryError } from '../errors.js';
import type { ClusterReleases } from './cluster-releases.js';

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
  else sendError(res, 'AVIARY_INTERNAL', (err as Error).message);
}

/**
 * The release endpoints over the operator's `releases`. Security: applying needs `token`
 * (compared in constant time); reads are open, like the rest of the control API.
 */
export function clusterReleaseRoutes(
  releases: Pick<ClusterReleases, 'apps' | 'view' | 'events' | 'apply'>,
  token: string,
): ExtraRoute {
  return async (req, res, url) => {
    const method = req.method ?? 'GET';
    if (method === 'GET' && url.pathname === '/api/v1/releases') {
      const views = await Promise.allSettled(releases.apps().map((app) => releases.view(app)));
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
        sendJson(res, 200, { ...(await releases.view(app)), events: releases.events(app) });
      } else if (method === 'POST') {
        if (!requireToken(req, res, token)) return true;
        const by = String(req.headers['x-aviary-user'] ?? 'api');
        sendJson(res, 200, await releases.apply(app, await documentOf(req), by));
      } else {
        sendError(res, 'AVIARY_METHOD', `use GET or POST for ${url.pathname}`);
      }
    } catch (err) {
      sendFailure(res, err);
    }
    return true;
  };
}
