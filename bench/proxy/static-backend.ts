/**
 * The Node static backend of the proxy bench (used when HAProxy is not installed, or with
 * BENCH_BACKEND=node): a bare `node:http` server answering every request with a small fixed
 * body naming its version. Run as a child: `node --import tsx static-backend.ts NAME`; it
 * prints `listening PORT` once bound on 127.0.0.1.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const name = process.argv[2] ?? 'v1';
const body = Buffer.from(`ok ${name}\n`);
const headers = { 'content-type': 'text/plain', 'content-length': String(body.length) };

const server = createServer({ keepAliveTimeout: 60_000, noDelay: true }, (_req, res) => {
  res.writeHead(200, headers);
  res.end(body);
});
server.listen(0, '127.0.0.1', () => {
  console.log(`listening ${(server.address() as AddressInfo).port}`);
});
process.once('SIGTERM', () => process.exit(0));
