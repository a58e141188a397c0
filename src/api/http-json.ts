/**
 * Shared plumbing of Aviary's JSON-over-HTTP APIs: bounded body reading, JSON answers,
 * bearer-token checks for mutations (constant-time, so the token cannot be guessed byte by
 * byte from response timings), the refusal of changes sent by a page of another origin, and
 * the warning when an API listens beyond loopback. See docs/security.md.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { httpStatusOf, type ErrorCode, type HttpApi, type HttpStatus } from '../error-catalogue.js';
import { AviaryError } from '../errors.js';

/** Sends a JSON answer. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2) + '\n';
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/**
 * Sends an error answer `{error: {code, message, ...extra}}` (`extra` carries e.g. `issues`)
 * with the code's status from the error catalogue unless `status` is given.
 */
export function sendError(
  res: ServerResponse,
  code: ErrorCode,
  message: string,
  extra: object = {},
  status: HttpStatus = httpStatusOf(code),
): void {
  sendJson(res, status, { error: { code, message, ...extra } });
}

/** Reads a request body up to `limitBytes`; larger bodies reject with code AVIARY_BODY_TOO_LARGE. */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        reject(new AviaryError('AVIARY_BODY_TOO_LARGE', `request body is larger than ${limitBytes} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Where a request goes: its URL (relative ones resolved against `base`), its method (GET
 * when absent) and its path as decoded segments (`/services/a%2Fb/x` → `services`, `a/b`, `x`).
 * @throws URIError for a malformed percent-encoding.
 */
export function requestTarget(
  req: IncomingMessage,
  base: string,
): { url: URL; method: string; parts: string[] } {
  const url = targetUrl(req.url ?? '/', base);
  const parts = url.pathname
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  return { url, method: req.method ?? 'GET', parts };
}

/**
 * The URL of a request target. An origin-form target (RFC 9112 §3.2.1) is a path, so `//x`
 * is the path `//x` and not a network-path reference to host `x` (which `new URL('//', base)`
 * rejects); a target that is no URL at all is the client's error, AVIARY_BAD_REQUEST.
 */
function targetUrl(target: string, base: string): URL {
  try {
    return target.startsWith('/') ? new URL(`${base}${target}`) : new URL(target, base);
  } catch {
    throw new AviaryError(
      'AVIARY_BAD_REQUEST',
      `request target ${JSON.stringify(target.slice(0, 200))}: not a URL`,
    );
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * True when the request carries `Authorization: Bearer <token>`. Both sides are hashed first
 * so the comparison takes the same time whatever the length of the guess.
 */
export function hasToken(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header);
  const presented = match?.[1]?.trim() ?? '';
  return timingSafeEqual(digest(presented), digest(token)) && presented !== '';
}

/** Answers 401 and returns false unless the request carries the token. */
export function requireToken(req: IncomingMessage, res: ServerResponse, token: string): boolean {
  if (hasToken(req, token)) return true;
  res.setHeader('www-authenticate', 'Bearer realm="aviary"');
  sendError(res, 'AVIARY_UNAUTHORIZED', 'this call changes state: send "Authorization: Bearer <token>"');
  return false;
}

/** Methods that never change state (RFC 9110 §9.2.1 "safe methods"); every other one is a change. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * True when a browser sent this change from a page of another origin: `Sec-Fetch-Site` says
 * `cross-site` or `same-site` (Fetch Metadata, w3c.github.io/webappsec-fetch-metadata), or
 * `Origin` is present and is not this API's own (`null`, or a host other than `Host`;
 * RFC 6454 §7). Requests without either header (the CLI, the routers, curl) are not
 * browsers' and pass; they still need the token. Reads are never refused here: a page of
 * another origin cannot read the answers without CORS headers, which these APIs never send.
 */
export function isCrossOriginChange(req: IncomingMessage): boolean {
  if (SAFE_METHODS.has(req.method ?? 'GET')) return false;
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return true;
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== (req.headers.host ?? '');
  } catch {
    // `null` (a sandboxed frame, a file: page) or garbage: not this API's origin.
    return true;
  }
}

/**
 * True when an API bound to loopback is asked under a name that is not loopback's. Only a
 * page using DNS rebinding (its own name made to resolve to 127.0.0.1) sends such a `Host`
 * to a loopback port; refusing it keeps that page from reading the open routes, which the
 * browser would otherwise treat as its own origin. An API bound beyond loopback is reached
 * by names Aviary cannot know, so it is not checked.
 */
export function isRebindingRequest(req: IncomingMessage, boundHost: string): boolean {
  if (!isLoopbackHost(boundHost)) return false;
  const host = req.headers.host;
  if (host === undefined) return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${host}`).hostname;
  } catch {
    return true;
  }
  return !isLoopbackHost(hostname) && !hostname.endsWith('.localhost');
}

/** True for 127.0.0.0/8, ::1, their IPv4-mapped form, and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  const v4 = bare.startsWith('::ffff:') ? bare.slice('::ffff:'.length) : bare;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/**
 * The warning for an API bound beyond loopback, or undefined on loopback. These APIs speak
 * plain HTTP, so their bearer token would cross the network unencrypted.
 */
export function exposureWarning(api: string, host: string, port: number): string | undefined {
  if (isLoopbackHost(host)) return undefined;
  return `aviary: warning: the ${api} API listens on ${host}:${port}, beyond loopback, over plain HTTP without TLS; its bearer token would cross the network unencrypted. Bind it to 127.0.0.1 or put a TLS-terminating proxy in front of it (docs/security.md).`;
}

/** Handles one request; a rejection becomes a JSON error answer. */
export type JsonHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * Starts an HTTP server for a JSON API on `host` (default 127.0.0.1). An {@link AviaryError}
 * thrown by `handle` is answered with its code's status for `api` in the error catalogue;
 * anything else is a 500 `AVIARY_INTERNAL`. A change sent by a page of another origin is
 * refused with 403 `AVIARY_CROSS_ORIGIN` before `handle` sees it ({@link isCrossOriginChange}),
 * and on loopback a request under another host name with 403 `AVIARY_HOST_REFUSED`
 * ({@link isRebindingRequest}).
 * Security: bound beyond loopback, it writes {@link exposureWarning} to `warn` (default stderr).
 */
export async function listenJson(
  handle: JsonHandler,
  port: number,
  host = '127.0.0.1',
  api: HttpApi = 'control',
  warn: (line: string) => void = (line) => console.warn(line),
): Promise<{ server: Server; host: string; port: number }> {
  let boundHost = host;
  const server = createServer((req, res) => {
    if (isRebindingRequest(req, boundHost)) {
      res.setHeader('connection', 'close');
      sendError(
        res,
        'AVIARY_HOST_REFUSED',
        `Host ${JSON.stringify(req.headers.host)} is not a loopback name: this API listens on ${boundHost} and answers only to 127.0.0.1, [::1] or localhost`,
      );
      return;
    }
    if (isCrossOriginChange(req)) {
      // The body is not read; close the connection rather than parse what follows it.
      res.setHeader('connection', 'close');
      sendError(
        res,
        'AVIARY_CROSS_ORIGIN',
        `${req.method ?? ''} from a page of another origin (${String(req.headers.origin ?? req.headers['sec-fetch-site'])}) is refused: only this API's own dashboard and non-browser clients may change state`,
      );
      return;
    }
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return;
      if (err instanceof AviaryError) sendError(res, err.code, err.message, {}, httpStatusOf(err.code, api));
      // A malformed percent-encoding in the path (requestTarget's decodeURIComponent) is the
      // client's error, not the server's: RFC 9110 §15.5.1.
      else if (err instanceof URIError)
        sendError(
          res,
          'AVIARY_BAD_REQUEST',
          `request path: ${err.message}`,
          {},
          httpStatusOf('AVIARY_BAD_REQUEST', api),
        );
      else sendError(res, 'AVIARY_INTERNAL', (err as Error).message);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const info = server.address() as AddressInfo;
  boundHost = info.address;
  const warning = exposureWarning(api, info.address, info.port);
  if (warning !== undefined) warn(warning);
  return { server, host: info.address, port: info.port };
}

/** Closes a server and every connection it holds. */
export async function closeServer(server: Server | undefined): Promise<void> {
  if (!server) return;
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
