/**
 * Request bodies kept for replay. A body up to the route's buffer size is read into memory
 * so a retry or a mirror can send it again; a larger one streams straight through and is
 * never replayed (the bytes already sent upstream are gone).
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';

/** How a request body is sent upstream. */
export type RequestBody =
  | { readonly kind: 'none' }
  | { readonly kind: 'buffered'; readonly data: Buffer }
  | { readonly kind: 'stream'; readonly stream: Readable };

/** True when the request carries a body (RFC 9112 §6.3: Content-Length or Transfer-Encoding). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

async function* replayThenRest(head: Buffer[], rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  yield* head;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}

/** Reads up to `limit` bytes of the body; past that, returns a stream of everything. */
export async function bufferBody(req: IncomingMessage, limit: number): Promise<RequestBody> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return { kind: 'stream', stream: req };
  const chunks: Buffer[] = [];
  let size = 0;
  const iterator = req[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  for (;;) {
    const next = await iterator.next();
    if (next.done) break;
    chunks.push(next.value);
    size += next.value.length;
    if (size > limit) return { kind: 'stream', stream: Readable.from(replayThenRest(chunks, iterator)) };
  }
  return { kind: 'buffered', data: Buffer.concat(chunks, size) };
}
