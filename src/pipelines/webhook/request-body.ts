/**
 * The receiver's reading of a request before anything trusts it: is the body JSON by its
 * media type, and is it within the size limit. The limit holds for a chunked body with no
 * Content-Length too: reading stops at the first byte over it.
 */
import type { IncomingMessage } from 'node:http';

/** Default body limit: 1 MiB (GitHub caps payloads at 25 MB; a push of one tag is a few KB). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/**
 * True for `application/json` and any `+json` type (RFC 6839 §3.1), parameters such as
 * `charset` allowed. Media types are case-insensitive (RFC 9110 §8.3.1).
 */
export function isJsonMediaType(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/** A body read whole, or the news that it went over the limit. */
export type BoundedBody = { readonly ok: true; readonly body: Buffer } | { readonly ok: false };

/**
 * Reads the request body up to `limitBytes`. A declared Content-Length over the limit fails
 * before any byte is read; otherwise the bytes are counted as they arrive and collecting
 * stops at the first chunk past the limit. The rest is not read here: the caller answers
 * 413 with `Connection: close`, and Node discards what still arrives and closes the
 * connection once the answer is sent, so other connections are not affected.
 */
export function readBoundedBody(req: IncomingMessage, limitBytes: number): Promise<BoundedBody> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limitBytes) return Promise.resolve({ ok: false });
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limitBytes) {
        req.off('data', onData);
        req.off('end', onEnd);
        resolve({ ok: false });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => resolve({ ok: true, body: Buffer.concat(chunks, size) });
    const onError = (err: Error): void => reject(err);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    // A connection cut mid-body (by the sender, or by close()) never ends the body.
    req.on('close', () => {
      if (!req.complete) reject(new Error('the connection closed before the whole body arrived'));
    });
  });
}
