/**
 * Prometheus text exposition (format 0.0.4) of the proxy's metrics. Latency is exported in
 * seconds, the Prometheus base unit. See https://prometheus.io/docs/instrumenting/exposition_formats/
 */
import { GRPC_STATUS_NAMES } from '../grpc.js';
import { LATENCY_BUCKETS_MS, type EndpointStats, type MirrorStats } from './endpoint-stats.js';

/** What the exposition reads of the proxy's metrics (`ProxyMetrics` is one). */
export interface ExposedProxyMetrics {
  allEndpointStats(): Iterable<EndpointStats>;
  allMirrorStats(): Iterable<MirrorStats>;
  /** Requests that matched no service or route, by listener. */
  readonly noRoute: ReadonlyMap<string, number>;
  ejectedEndpoints(): readonly { service: string; version: string; endpoint: string }[];
  readonly generation: number;
  readonly inFlight: number;
}

/** Escapes a label value as the exposition format requires (backslash, quote, newline). */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labels(pairs: Record<string, string>): string {
  return Object.entries(pairs)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',');
}

/** Renders every router metric. */
export function renderProxyMetrics(metrics: ExposedProxyMetrics): string {
  const out: string[] = [];
  out.push(
    '# HELP aviary_proxy_requests_total Requests answered, by status code (for gRPC calls, the HTTP status their grpc-status stands for).',
  );
  out.push('# TYPE aviary_proxy_requests_total counter');
  for (const s of metrics.allEndpointStats()) {
    const base = { service: s.service, route: s.route, version: s.version, endpoint: s.endpoint };
    for (let i = 0; i < s.byStatus.length; i++) {
      const n = s.byStatus[i]!;
      if (n > 0) out.push(`aviary_proxy_requests_total{${labels({ ...base, code: String(i + 100) })}} ${n}`);
    }
  }
  out.push('# HELP aviary_proxy_upstream_errors_total Upstream failures, by kind.');
  out.push('# TYPE aviary_proxy_upstream_errors_total counter');
  for (const s of metrics.allEndpointStats()) {
    const base = { service: s.service, route: s.route, version: s.version, endpoint: s.endpoint };
    for (const [kind, n] of Object.entries(s.errors)) {
      if (n > 0) out.push(`aviary_proxy_upstream_errors_total{${labels({ ...base, kind })}} ${n}`);
    }
  }
  out.push('# HELP aviary_proxy_retries_total Upstream tries after the first.');
  out.push('# TYPE aviary_proxy_retries_total counter');
  for (const s of metrics.allEndpointStats()) {
    if (s.retries > 0) {
      const base = { service: s.service, route: s.route, version: s.version, endpoint: s.endpoint };
      out.push(`aviary_proxy_retries_total{${labels(base)}} ${s.retries}`);
    }
  }
  out.push('# HELP aviary_proxy_grpc_responses_total gRPC calls answered, by gRPC status.');
  out.push('# TYPE aviary_proxy_grpc_responses_total counter');
  for (const s of metrics.allEndpointStats()) {
    const base = { service: s.service, route: s.route, version: s.version, endpoint: s.endpoint };
    s.grpcStatus.forEach((n, code) => {
      if (n > 0) {
        const grpc = { grpc_code: GRPC_STATUS_NAMES[code] ?? String(code), grpc_status: String(code) };
        out.push(`aviary_proxy_grpc_responses_total{${labels({ ...base, ...grpc })}} ${n}`);
      }
    });
  }
  out.push(
    '# HELP aviary_proxy_request_duration_seconds Time from request arrival to the end of the response.',
  );
  out.push('# TYPE aviary_proxy_request_duration_seconds histogram');
  for (const s of metrics.allEndpointStats()) {
    if (s.latencyCount === 0) continue;
    const base = { service: s.service, route: s.route, version: s.version, endpoint: s.endpoint };
    let cumulative = 0;
    LATENCY_BUCKETS_MS.forEach((bound, i) => {
      cumulative += s.latencyBuckets[i]!;
      out.push(
        `aviary_proxy_request_duration_seconds_bucket{${labels({ ...base, le: String(bound / 1000) })}} ${cumulative}`,
      );
    });
    cumulative += s.latencyBuckets[LATENCY_BUCKETS_MS.length]!;
    out.push(
      `aviary_proxy_request_duration_seconds_bucket{${labels({ ...base, le: '+Inf' })}} ${cumulative}`,
    );
    out.push(`aviary_proxy_request_duration_seconds_sum{${labels(base)}} ${s.latencySumMs / 1000}`);
    out.push(`aviary_proxy_request_duration_seconds_count{${labels(base)}} ${s.latencyCount}`);
  }
  out.push('# HELP aviary_proxy_mirror_requests_total Mirrored copies, by status code or failure.');
  out.push('# TYPE aviary_proxy_mirror_requests_total counter');
  for (const m of metrics.allMirrorStats()) {
    const base = { service: m.service, route: m.route, version: m.version };
    for (let i = 0; i < m.byStatus.length; i++) {
      const n = m.byStatus[i]!;
      if (n > 0)
        out.push(`aviary_proxy_mirror_requests_total{${labels({ ...base, result: String(i + 100) })}} ${n}`);
    }
    if (m.errors > 0)
      out.push(`aviary_proxy_mirror_requests_total{${labels({ ...base, result: 'error' })}} ${m.errors}`);
    if (m.dropped > 0) {
      out.push(`aviary_proxy_mirror_requests_total{${labels({ ...base, result: 'dropped' })}} ${m.dropped}`);
    }
  }
  out.push('# HELP aviary_proxy_no_route_total Requests that matched no service or route (answered 404).');
  out.push('# TYPE aviary_proxy_no_route_total counter');
  for (const [listener, n] of metrics.noRoute) {
    out.push(`aviary_proxy_no_route_total{${labels({ listener })}} ${n}`);
  }
  out.push('# HELP aviary_proxy_endpoint_ejected 1 while passive health checking has ejected an endpoint.');
  out.push('# TYPE aviary_proxy_endpoint_ejected gauge');
  for (const e of metrics.ejectedEndpoints()) {
    out.push(
      `aviary_proxy_endpoint_ejected{${labels({ service: e.service, version: e.version, endpoint: e.endpoint })}} 1`,
    );
  }
  out.push('# HELP aviary_proxy_config_generation Generation of the configuration in force.');
  out.push('# TYPE aviary_proxy_config_generation gauge');
  out.push(`aviary_proxy_config_generation ${metrics.generation}`);
  out.push('# HELP aviary_proxy_requests_in_flight Requests being proxied now.');
  out.push('# TYPE aviary_proxy_requests_in_flight gauge');
  out.push(`aviary_proxy_requests_in_flight ${metrics.inFlight}`);
  return out.join('\n') + '\n';
}
