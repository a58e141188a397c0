/**
 * The dashboard's page and browser modules, served as files from `src/web/static/`. The
 * directory is resolved as `../../src/web/static/` from this module, which names the same
 * place whether this file runs from `src/web/` (tsx, vitest) or from `dist/web/` (after
 * `npm run build`, which compiles TypeScript only), so the build needs no copy step. Only
 * the files listed in {@link DASHBOARD_ASSETS} are served: a request cannot name any other
 * path.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { ExtraRoute } from '../api/control-server.js';
import { sendError } from '../api/http-json.js';

/** Where the browser files live (see the module header). */
export const STATIC_DIR = fileURLToPath(new URL('../../src/web/static/', import.meta.url));

/** URL prefix of the assets; the page loads its modules from here. */
export const ASSET_PREFIX = '/dashboard/assets/';

/** Every file the dashboard serves, with its content type. */
export const DASHBOARD_ASSETS: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
  'app-card.js': 'text/javascript; charset=utf-8',
  'checks-table.js': 'text/javascript; charset=utf-8',
  'control-client.js': 'text/javascript; charset=utf-8',
  'events-timeline.js': 'text/javascript; charset=utf-8',
  'judge-evidence.js': 'text/javascript; charset=utf-8',
  'judge-figures.js': 'text/javascript; charset=utf-8',
  'line-chart.js': 'text/javascript; charset=utf-8',
  'pipeline-log.js': 'text/javascript; charset=utf-8',
  'pipeline-runs.js': 'text/javascript; charset=utf-8',
  'pipelines-view.js': 'text/javascript; charset=utf-8',
  'safe-dom.js': 'text/javascript; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
};

/**
 * Content-Security-Policy of the page and its assets. `default-src 'self'` allows scripts,
 * styles and fetch/EventSource to this origin only: no inline script, no CDN, no
 * third-party connection. The rest forbids framing (clickjacking on the action buttons),
 * `<base>` rewrites and form posts.
 */
export const DASHBOARD_CSP =
  "default-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/** Headers sent with every dashboard file. */
export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': DASHBOARD_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

async function sendAsset(res: ServerResponse, name: string, head: boolean): Promise<void> {
  const type = DASHBOARD_ASSETS[name];
  if (type === undefined) return sendError(res, 'AVIARY_NOT_FOUND', `no dashboard asset ${name}`);
  let body: Buffer;
  try {
    body = await readFile(`${STATIC_DIR}${name}`);
  } catch (err) {
    return sendError(
      res,
      'AVIARY_DASHBOARD_MISSING',
      `dashboard file ${name} cannot be read from ${STATIC_DIR} (${(err as Error).message}); run Aviary from a checkout that includes src/web/static`,
    );
  }
  res.writeHead(200, { ...DASHBOARD_HEADERS, 'content-type': type, 'content-length': body.length });
  res.end(head ? undefined : body);
}

/** Serves the page on `/` and `/dashboard`, and the listed assets under {@link ASSET_PREFIX}. */
export function staticAssetsRoute(): ExtraRoute {
  return async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const head = req.method === 'HEAD';
    if (url.pathname === '/' || url.pathname === '/dashboard' || url.pathname === '/dashboard/') {
      await sendAsset(res, 'index.html', head);
      return true;
    }
    if (!url.pathname.startsWith(ASSET_PREFIX)) return false;
    await sendAsset(res, url.pathname.slice(ASSET_PREFIX.length), head);
    return true;
  };
}
