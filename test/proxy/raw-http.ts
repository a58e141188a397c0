/**
 * HTTP/1.1 over a bare socket, for the requests undici refuses to send (hop-by-hop fields
 * such as `Connection: x-secret`, `Upgrade` on a plain request, oversized heads) and for
 * reading exactly the bytes the router answers.
 */
import { connect } from 'node:net';

/**
 * Writes `head` (and `body`) on a fresh socket and returns everything read until the peer
 * closes. The request should say `Connection: close`: the socket is not half-closed, since
 * an HTTP server treats a client's FIN before its answer as an aborted request.
 */
export function rawExchange(port: number, head: string, body: Buffer | string = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.write(head);
    socket.write(body);
  });
}

/** Splits a raw HTTP/1.1 answer into status, lower-case headers (repeats joined by ", ") and decoded body. */
export function parseRawAnswer(raw: string): { status: number; headers: Map<string, string>; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const lines = raw.slice(0, split).split('\r\n');
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
  }
  let body = raw.slice(split + 4);
  if (headers.get('transfer-encoding') === 'chunked') body = dechunk(body);
  return { status: Number(lines[0]?.split(' ')[1]), headers, body };
}

/** Decodes a chunked body (RFC 9112 §7.1), ignoring extensions and trailers. */
function dechunk(encoded: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const lineEnd = encoded.indexOf('\r\n', at);
    const size = parseInt(encoded.slice(at, lineEnd), 16);
    if (!(size > 0)) return out;
    out += encoded.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}
