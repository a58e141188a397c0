/**
 * Request bodies kept for replay. A body up to the route's buffer size is read into memory
 * so a retry or a mirror can send it again; a larger one streams straight through and is
 * never replayed (the bytes already sent upstream are gone). A gRPC call's body streams
 * while a copy is kept (`ReplayableBody`), since a stream may not end before its answers.
 */
import type { IncomingMessage } from 'node:http';
import { PassThrough, Readable } from 'node:stream';

/** How a request body is sent upstream. */
export type RequestBody =
  | { readonly kind: 'none' }
  | { readonly kind: 'buffered'; readonly data: Buffer }
  | { readonly kind: 'stream'; readonly stream: Readable }
  | { readonly kind: 'replayable'; readonly body: ReplayableBody };

/**
 * True when the request carries a body: over HTTP/2, unless its HEADERS frame ended the
 * stream (RFC 9113 §8.1); over HTTP/1.1, when it has Content-Length or Transfer-Encoding
 * (RFC 9112 §6.3).
 */
export function hasBody(req: IncomingMessage): boolean {
  if (req.httpVersionMajor === 2) {
    return (req as unknown as { stream?: { endAfterHeaders?: boolean } }).stream?.endAfterHeaders !== true;
  }
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

/**
 * A body that streams upstream as it arrives and keeps a copy of its first `limit` bytes, so
 * a retry can send it again while the client is still sending (a gRPC stream whose client
 * waits for answers before it sends more would never end if the proxy waited for it, as
 * {@link bufferBody} does). Envoy buffers retried requests the same way. Past `limit`, the
 * copy is dropped and the body can no longer be replayed.
 */
export class ReplayableBody {
  private chunks: Buffer[] = [];
  private size = 0;
  private overflowed = false;
  private ended = false;
  private failed: Error | undefined;
  private current: PassThrough | undefined;

  constructor(
    private readonly source: Readable,
    private readonly limit: number,
  ) {
    source.on('data', (chunk: Buffer) => this.onChunk(chunk));
    source.once('end', () => {
      this.ended = true;
      this.current?.end();
    });
    source.once('error', (err) => {
      this.failed = err;
      this.current?.destroy(err);
    });
    source.pause();
  }

  /** True while everything received so far is still kept (a new try could send it all). */
  get replayable(): boolean {
    return !this.overflowed;
  }

  /** A stream for a new try: every byte kept so far, then the rest as it arrives. */
  open(): Readable {
    const previous = this.current;
    const stream = new PassThrough();
    this.current = stream;
    previous?.removeAllListeners('drain');
    for (const chunk of this.chunks) stream.write(chunk);
    if (this.failed) stream.destroy(this.failed);
    else if (this.ended) stream.end();
    this.source.resume();
    return stream;
  }

  private onChunk(chunk: Buffer): void {
    if (!this.overflowed) {
      this.chunks.push(chunk);
      this.size += chunk.length;
      if (this.size > this.limit) {
        this.overflowed = true;
        this.chunks = [];
      }
    }
    const stream = this.current;
    if (stream && !stream.write(chunk)) {
      this.source.pause();
      stream.once('drain', () => this.source.resume());
    }
  }
}
