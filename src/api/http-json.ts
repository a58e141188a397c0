/**
 * Shared plumbing of Aviary's JSON-over-HTTP APIs: bounded body reading, JSON answers, and
 * bearer-token checks for mutations (constant-time, so the token cannot be guessed byte by
 * byte from response timings).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
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

/** Sends an error answer `{error: {code, message, issues?}}`. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  extra: object = {},
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
  sendError(res, 401, 'AVIARY_UNAUTHORIZED', 'this call changes state: send "Authorization: Bearer <token>"');
  return false;
}
