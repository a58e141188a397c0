/**
 * Renders the whole haproxy.cfg from the apps' plans (haproxy-plan.ts): one frontend on the
 * router's address with the routing rules of haproxy-frontend-rules.ts, one backend per app
 * (and one for its A/B version) with its server slots in their current state, retries,
 * timeouts and prefix rewrite, and the request log sent to Aviary
 * through a ring (haproxy-request-log.ts). Pure: the same plans give the same text.
 * Directives follow the HAProxy 2.6 configuration manual:
 * https://docs.haproxy.org/2.6/configuration.html
 */
import { frontendRoutingLines, NO_ROUTE_BACKEND } from './haproxy-frontend-rules.js';
import type { AppPlan, BackendPlan, ServerSlot } from './haproxy-plan.js';
import { quote } from './haproxy-quote.js';

/** Where HAProxy runs and what it talks to, fixed for the life of one engine. */
export interface HaproxyRuntimeSettings {
  readonly host: string;
  readonly port: number;
  readonly threads: number;
  readonly maxConnections: number;
  /** Unix socket of the Runtime API (level admin, 0600, `expose-fd listeners` for seamless reloads). */
  readonly statsSocket: string;
  /** Unix socket where HAProxy's Prometheus exporter answers `/metrics`. */
  readonly metricsSocket: string;
  /** Unix socket where Aviary reads the request log (haproxy-request-log.ts); undefined: no request log. */
  readonly logSocket?: string;
}

/** Prefix of every request-log line, so other messages on the ring are told apart. */
export const REQUEST_LOG_TAG = 'aviary-request';

/** Default server timeout when the app sets none (the built-in proxy's route default). */
const DEFAULT_TIMEOUT_MS = 15_000;

/** App Mesh / Envoy retry events as HAProxy `retry-on` keywords; events HAProxy has no counterpart for are left out. */
export function retryOnKeywords(events: readonly string[]): string[] {
  const keywords = new Set<string>();
  const add = (...k: string[]) => k.forEach((x) => keywords.add(x));
  for (const event of events) {
    if (event === 'connect-failure' || event === 'connection-error' || event === 'refused-stream')
      add('conn-failure');
    else if (event === 'gateway-error') add('conn-failure', '502', '503', '504');
    else if (event === 'server-error' || event === '5xx') add('500', '502', '503', '504');
    else if (event === 'reset') add('empty-response', 'junk-response');
    else if (event === 'per-try-timeout') add('response-timeout');
    else if (['500', '501', '502', '503', '504', '401', '403', '404', '408', '425'].includes(event))
      add(event);
  }
  return [...keywords];
}

function serverLine(slot: ServerSlot, sticky: boolean, http2: boolean): string {
  const address = slot.address ? `${slot.address.host}:${slot.address.port}` : '127.0.0.1:1';
  return [
    `  server ${slot.name} ${address} weight ${slot.weight}`,
    // h2c with prior knowledge to the versions, as gRPC servers speak it.
    http2 ? ' proto h2' : '',
    sticky ? ` cookie ${slot.name}` : '',
    slot.ready ? '' : ' disabled',
  ].join('');
}

/**
 * The prefix rewrite as the built-in proxy does it (src/proxy/request-routing.ts): the matched
 * prefix is replaced, with one `/` between the new prefix and the rest, never two. The
 * replacement is a log-format string, so a `%` in it is doubled.
 */
function rewriteLines(pathPrefix: string, rewritePrefix: string): string[] {
  const from = `^${pathPrefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
  const to = (separator: string) => quote(`${rewritePrefix.replace(/%/g, '%%')}${separator}\\1`);
  if (rewritePrefix.endsWith('/')) return [`  http-request replace-path ${quote(`${from}/?(.*)`)} ${to('')}`];
  // A rest that does not start with "/" (`/v1x` under `/v1`) gets one; the flag is set before
  // either rewrite, so the second rule never sees the first one's result.
  const bare = '{ var(txn.aviary_bare_rest) -m bool }';
  return [
    `  http-request set-var(txn.aviary_bare_rest) bool(true) if { path_reg ${quote(`${from}[^/]`)} }`,
    `  http-request replace-path ${quote(`${from}(.*)`)} ${to('/')} if ${bare}`,
    `  http-request replace-path ${quote(`${from}(.*)`)} ${to('')} unless ${bare}`,
  ];
}

function backendLines(plan: AppPlan, backend: BackendPlan, sticky: boolean): string[] {
  const { spec } = plan;
  const retries = spec.retries && spec.retries.attempts > 0 ? spec.retries : undefined;
  const timeout = retries?.perTryTimeoutMs ?? spec.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const retryOn = retries ? retryOnKeywords(retries.retryOn ?? ['gateway-error', 'connect-failure']) : [];
  const lines = [`backend ${backend.name}`, '  balance roundrobin', `  timeout server ${timeout}ms`];
  lines.push(`  retries ${retries?.attempts ?? 0}`);
  if (retryOn.length > 0) lines.push(`  retry-on ${retryOn.join(' ')}`, '  option redispatch 1');
  if (spec.rewritePrefix !== undefined)
    lines.push(...rewriteLines(spec.pathPrefix ?? '/', spec.rewritePrefix));
  if (sticky && spec.sessionAffinity) {
    const { cookieName, maxAgeSeconds } = spec.sessionAffinity;
    lines.push(`  cookie ${cookieName} insert indirect nocache attr ${quote(`Max-Age=${maxAgeSeconds}`)}`);
  }
  lines.push(
    ...backend.servers.map((s) =>
      serverLine(s, sticky && spec.sessionAffinity !== undefined, spec.http2 === true),
    ),
  );
  return lines;
}

/** The whole haproxy.cfg. */
export function renderHaproxyConfig(settings: HaproxyRuntimeSettings, plans: readonly AppPlan[]): string {
  const log = settings.logSocket !== undefined;
  const lines = [
    '# Rendered by Aviary (router.kind: haproxy); edits are overwritten at the next reload.',
    'global',
    '  master-worker',
    `  nbthread ${settings.threads}`,
    `  maxconn ${settings.maxConnections}`,
    `  stats socket ${settings.statsSocket} mode 600 level admin expose-fd listeners`,
    // An old worker left after a reload ends at the latest when its clients' keep-alive
    // connections would have timed out anyway (timeout http-keep-alive below).
    '  hard-stop-after 90s',
    '',
  ];
  if (log) {
    // A ring forwarded over a stream socket batches many lines per write, where syslog over
    // UDP costs a datagram (and a wake-up of Aviary) per request.
    lines.push(
      'ring aviary-requests',
      '  format raw',
      '  maxlen 512',
      '  size 4194304',
      '  timeout connect 5s',
      '  timeout server 1h',
      `  server aviary unix@${settings.logSocket}`,
      '',
    );
  }
  lines.push(
    'defaults',
    '  mode http',
    '  option forwardfor',
    '  option http-keep-alive',
    // After a reload the old worker answers each kept-alive connection's next request with
    // `Connection: close` instead of closing it while idle, which races a client's next
    // request and fails it ("other side closed"): 32 failures in 10 reloads under 20 clients
    // without it, none with it (test/haproxy/haproxy-router.test.ts).
    '  option idle-close-on-response',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout http-request 10s',
    '  timeout http-keep-alive 60s',
    '  timeout queue 10s',
    `  timeout server ${DEFAULT_TIMEOUT_MS}ms`,
  );
  if (log)
    lines.push(
      '  log ring@aviary-requests local0 info',
      // Backend, server slot, status, active time (ms): what the traffic windows record.
      `  log-format "${REQUEST_LOG_TAG} %b %s %ST %Ta"`,
    );
  lines.push(
    '',
    'frontend aviary-router',
    `  bind ${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${settings.port}`,
    ...(log ? ['  log global'] : ['  no log']),
    ...frontendRoutingLines(plans),
    `  default_backend ${NO_ROUTE_BACKEND}`,
    '',
    'frontend aviary-metrics',
    `  bind unix@${settings.metricsSocket} mode 600`,
    '  no log',
    '  http-request use-service prometheus-exporter if { path /metrics }',
    '  http-request return status 404',
    '',
    `backend ${NO_ROUTE_BACKEND}`,
    '  http-request return status 404 content-type text/plain string "no route\\n"',
    '',
  );
  for (const plan of plans) {
    lines.push(...backendLines(plan, plan.main, true), '');
    if (plan.ab) lines.push(...backendLines(plan, plan.ab.backend, false), '');
  }
  return lines.join('\n');
}
