/**
 * How the webhook receiver answers: one JSON document with an explicit length, success as
 * `{status, ...}` and failure as `{error: {code, message, ...}}` with a catalogued code.
 */
import type { ServerResponse } from 'node:http';
import type { ErrorCode } from '../../error-catalogue.js';

/** The receiver's success answers. */
export type WebhookAnswer =
  | { readonly status: 'accepted'; readonly runId: string }
  | { readonly status: 'ignored'; readonly reason: string }
  | { readonly status: 'duplicate'; readonly reason: string }
  | { readonly status: 'pong' };

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/** Answers a delivery that was handled: 202 accepted, or 200 for the rest. */
export function answer(res: ServerResponse, status: 200 | 202, body: WebhookAnswer): void {
  sendJson(res, status, body);
}

/** Answers `{error: {code, message, ...extra}}`; the status is the receiver's, per its module header. */
export function fail(
  res: ServerResponse,
  status: number,
  code: ErrorCode,
  message: string,
  extra: { headers?: Record<string, string>; body?: object } = {},
): void {
  sendJson(res, status, { error: { code, message, ...extra.body } }, extra.headers);
}
