/**
 * A bare-socket HTTP/1.1 client for the front-end fuzz tests: it writes arbitrary bytes and
 * reads the answer until the server closes, the answer goes quiet after a complete response
 * head, or a bound passes. test/proxy/raw-http.ts reads until close only, which a fuzzed
 * request that leaves the connection open (keep-alive, an unfinished body) would turn into
 * a wait of the server's whole timeout.
 */
import { connect } from 'node:net';

/** What one exchange gave back. */
export interface RawAnswer {
  /** Every byte the server wrote, in latin1. */
  readonly text: string;
  /** True when the server closed (or reset) the connection by itself. */
  readonly closedByServer: boolean;
  /** The client's local port, which names the connection on the server's side. */
  readonly localPort: number;
}

/** Bounds of one exchange; neither is asserted on, both only stop the wait. */
export interface RawBounds {
  /** Stop reading this long after the last byte once a response head is complete. */
  readonly quietMs: number;
  /** Stop reading after this long whatever happens. */
  readonly maxMs: number;
}

const defaultBounds: RawBounds = { quietMs: 150, maxMs: 3_000 };

/** Writes `bytes` on a fresh connection to 127.0.0.1:`port` and collects the answer. */
export function rawSend(port: number, bytes: Buffer, bounds: RawBounds = defaultBounds): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let localPort = 0;
    let done = false;
    let quiet: NodeJS.Timeout | undefined;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(quiet);
      clearTimeout(overall);
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closedByServer, localPort });
    };
    const overall = setTimeout(() => finish(false), bounds.maxMs);
    socket.on('connect', () => {
      localPort = socket.localPort ?? 0;
      // A write error (the server closed mid-write) shows as the close below.
      socket.write(bytes, () => undefined);
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      clearTimeout(quiet);
      if (Buffer.concat(chunks).includes('\r\n\r\n')) quiet = setTimeout(() => finish(false), bounds.quietMs);
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
  });
}

/** The status codes of every status line in `text`, in order; a malformed first line gives NaN. */
export function statusCodesOf(text: string): number[] {
  if (text === '') return [];
  const codes: number[] = [];
  const line = /HTTP\/1\.[01] (\d{3}) [^\r\n]*\r\n/g;
  if (!/^HTTP\/1\.[01] \d{3} /.test(text)) return [Number.NaN];
  for (let match = line.exec(text); match !== null; match = line.exec(text)) codes.push(Number(match[1]));
  return codes;
}
