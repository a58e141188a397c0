/**
 * Entry point of a client's `Upgrade` request: routes it like any request, answers 404 or
 * 503 on the raw socket when there is no route or no endpoint, hands the rest to the
 * pass-through of upgrade.ts, and records the outcome in the version's metrics.
 */
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { ProxyMetrics } from './stats/proxy-metrics.js';
import { addForwardingHeaders, withoutHopByHop } from './http-headers.js';
import { schemeOf } from './listener-server.js';
import { routeRequest } from './request-routing.js';
import type { RouteTable } from './route-table.js';
import { proxyUpgrade } from './upgrade.js';

/** Handles one `upgrade` event of the named listener against the table in force. */
export function handleUpgrade(
  table: RouteTable,
  metrics: ProxyMetrics,
  listener: string,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  const decision = routeRequest(table, listener, req);
  if (!('route' in decision)) {
    socket.end(`HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
    return;
  }
  const version = decision.target.version;
  const endpoint = version.endpoints.pick();
  if (!endpoint) {
    socket.end(`HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
    return;
  }
  const headers = withoutHopByHop(req.headers, true);
  addForwardingHeaders(headers, req.socket.remoteAddress, schemeOf(req.socket));
  const startedAt = performance.now();
  proxyUpgrade(req, socket, head, endpoint, decision.path, headers, (status) => {
    const stats = version.stats.get(endpoint.address) ?? version.stats.get('none')!;
    metrics.recordRequest(
      stats,
      version.window,
      Date.now(),
      status,
      performance.now() - startedAt,
      undefined,
    );
  });
}
