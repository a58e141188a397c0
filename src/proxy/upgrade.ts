/**
 * `Upgrade` pass-through (WebSocket and friends, RFC 9110 §7.8): the handshake is forwarded
 * to one endpoint of the chosen version and, on 101, bytes are piped both ways untouched.
 */
import { request, type IncomingMessage } from 'node:http';
import { request as requestTls } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Endpoint } from './endpoint-set.js';

function headLines(status: number, statusText: string, rawHeaders: readonly string[]): string {
  let head = `HTTP/1.1 ${status} ${statusText}\r\n`;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) head += `${rawHeaders[i]}: ${rawHeaders[i + 1]}\r\n`;
  return head + '\r\n';
}

/** Opens the upstream side of an upgrade and splices it to the client socket. */
export function proxyUpgrade(
  req: IncomingMessage,
  clientSocket: Duplex,
  clientHead: Buffer,
  endpoint: Endpoint,
  path: string,
  headers: Record<string, string | string[]>,
  onDone: (status: number) => void,
): void {
  const url = new URL(endpoint.origin);
  const options = { host: url.hostname, port: Number(url.port), method: req.method, path, headers };
  const upstream =
    url.protocol === 'https:' ? requestTls({ ...options, ...endpoint.tls, agent: false }) : request(options);
  let settled = false;
  const settle = (status: number): void => {
    if (settled) return;
    settled = true;
    onDone(status);
  };
  clientSocket.on('error', () => upstream.destroy());
  upstream.on('upgrade', (res, upstreamSocket, upstreamHead) => {
    clientSocket.write(
      headLines(res.statusCode ?? 101, res.statusMessage ?? 'Switching Protocols', res.rawHeaders),
    );
    if (upstreamHead.length > 0) clientSocket.write(upstreamHead);
    if (clientHead.length > 0) upstreamSocket.write(clientHead);
    upstreamSocket.on('error', () => clientSocket.destroy());
    clientSocket.on('close', () => upstreamSocket.destroy());
    upstreamSocket.on('close', () => clientSocket.destroy());
    upstreamSocket.pipe(clientSocket);
    clientSocket.pipe(upstreamSocket);
    settle(101);
  });
  upstream.on('response', (res) => {
    // The upstream refused the upgrade: relay its answer and close.
    clientSocket.write(headLines(res.statusCode ?? 502, res.statusMessage ?? '', res.rawHeaders));
    res.pipe(clientSocket);
    settle(res.statusCode ?? 502);
  });
  upstream.on('error', (err) => {
    if (!settled) {
      const body = `upstream connect error: ${(err as { code?: string }).code ?? err.message}\n`;
      clientSocket.end(
        `HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    }
    settle(502);
  });
  upstream.end();
}
