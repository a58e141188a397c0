/**
 * The reference of the proxy bench: the minimal reasonable Node proxy. A `node:http` server
 * and one undici Pool per backend; each request goes to v1 or v2 by `Math.random()` at
 * 90/10, headers are copied naively both ways and the body is piped back with `pipe()`
 * (`stream.pipeline()` costs an AbortController and a DOMException per request, which made
 * this reference some 10% slower than it needs to be). Nothing else: no
 * routing table, no metrics, no timeouts, no retries. Run as a child:
 * `node --import tsx bare-proxy.ts V1_ORIGIN V2_ORIGIN CONNECTIONS`; prints `listening PORT`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const [v1Origin, v2Origin, connections] = process.argv.slice(2);
if (!v1Origin || !v2Origin) throw new Error('usage: bare-proxy.ts V1_ORIGIN V2_ORIGIN [CONNECTIONS]');
const poolOptions = { connections: Number(connections ?? 128), pipelining: 1 };
const v1 = new Pool(v1Origin, poolOptions);
const v2 = new Pool(v2Origin, poolOptions);

const server = createServer({ noDelay: true }, (req, res) => {
  const pool = Math.random() < 0.9 ? v1 : v2;
  pool
    .request({
      path: req.url ?? '/',
      method: req.method ?? 'GET',
      headers: req.headers,
      body: req.method === 'GET' || req.method === 'HEAD' ? null : req,
    })
    .then((upstream) => {
      res.writeHead(upstream.statusCode, upstream.headers);
      upstream.body.once('error', () => res.destroy());
      upstream.body.pipe(res);
    })
    .catch(() => {
      res.statusCode = 502;
      res.end();
    });
});
server.listen(0, '127.0.0.1', () => {
  console.log(`listening ${(server.address() as AddressInfo).port}`);
});
process.once('SIGTERM', () => process.exit(0));
