/**
 * Time series of each version's traffic for the dashboard's charts, read from the built-in
 * router's rolling windows: `GET /api/v1/rollouts/{app}/traffic?seconds=300&step=5`. Each
 * bucket counts what the version served, live requests plus mirrored copies, which is the
 * sample the built-in checks judge (metrics/embedded-observer.ts), so a chart and a check
 * never disagree about the same interval.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExtraRoute } from '../api/control-server.js';
import { sendJson } from '../api/http-json.js';
import { AviaryError } from '../errors.js';
import type { TrafficWindows } from '../analysis/traffic-source.js';
import type { RolloutController } from '../rollout/controller/controller.js';
import type { Role } from '../rollout/step/observations.js';

/** The versions every app has on the router. */
export const SERIES_VERSIONS: readonly Role[] = ['primary', 'canary'];

/** Default span and bucket of a series: the last five minutes in five-second buckets. */
export const DEFAULT_SERIES_SECONDS = 300;
export const DEFAULT_STEP_SECONDS = 5;
/** Largest bucket the endpoint accepts. */
export const MAX_STEP_SECONDS = 60;
/**
 * Shortest span a series is trimmed to. Leading buckets in which no version served anything
 * are dropped down to this span, so a run shorter than the asked span fills the chart's time
 * axis instead of drawing in its last few pixels.
 */
export const MIN_SERIES_SECONDS = 30;

/** The span of a series; every field in whole seconds except `nowMs`. */
export interface TrafficQuery {
  readonly seconds: number;
  readonly stepSeconds: number;
  readonly nowMs: number;
}

/** One version's buckets, index-aligned with {@link TrafficSeries.timestamps}. */
export interface VersionSeries {
  /** Requests served in the bucket. */
  readonly requests: number[];
  /**
   * Requests per second. Null for the buckets before the version's first request in the
   * span (it was not running yet), 0 for an empty bucket after it (a measured silence).
   */
  readonly rps: (number | null)[];
  /** Share of non-5xx answers in percent; null without requests. */
  readonly successRate: (number | null)[];
  /** Latency quantiles in ms (1 % relative accuracy, see LatencySketch); null without requests. */
  readonly p50Ms: (number | null)[];
  readonly p99Ms: (number | null)[];
}

/** The answer of the traffic endpoint. */
export interface TrafficSeries {
  readonly app: string;
  /** Start of the first bucket and end of the last one (ms since the epoch). */
  readonly fromMs: number;
  readonly toMs: number;
  readonly stepMs: number;
  /** End of each bucket (ms since the epoch): a point is plotted where its interval closes. */
  readonly timestamps: number[];
  readonly versions: Readonly<Record<Role, VersionSeries>>;
}

function wholeSeconds(params: URLSearchParams, name: string, fallback: number, min: number, max: number) {
  const raw = params.get(name);
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new AviaryError(
      'AVIARY_BAD_REQUEST',
      `${name}: expected whole seconds from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

/**
 * Reads `seconds` (default 300, at most the router's window, 600 s by default) and `step`
 * (default 5, 1–60) from a query string. Throws AVIARY_BAD_REQUEST naming the parameter.
 */
export function parseTrafficQuery(
  params: URLSearchParams,
  windowSeconds: number,
  nowMs: number,
): TrafficQuery {
  const stepSeconds = wholeSeconds(params, 'step', DEFAULT_STEP_SECONDS, 1, MAX_STEP_SECONDS);
  const seconds = wholeSeconds(
    params,
    'seconds',
    Math.min(DEFAULT_SERIES_SECONDS, windowSeconds),
    stepSeconds,
    windowSeconds,
  );
  return { seconds, stepSeconds, nowMs };
}

function emptySeries(): VersionSeries {
  return { requests: [], rps: [], successRate: [], p50Ms: [], p99Ms: [] };
}

/** Leading buckets in which no version served a request, leaving at least `keep` buckets. */
function emptyLead(versions: Readonly<Record<Role, VersionSeries>>, buckets: number, keep: number): number {
  const firstServed = Math.min(
    ...SERIES_VERSIONS.map((version) => {
      const index = versions[version].requests.findIndex((served) => served > 0);
      return index === -1 ? buckets : index;
    }),
  );
  return Math.max(0, Math.min(firstServed, buckets - keep));
}

/**
 * Buckets of `stepSeconds` covering the last `seconds` before `nowMs`. The current second is
 * left out: its slice is still filling, and a half-counted bucket would read as a dip.
 * Buckets before the first request of any version are left out too, down to
 * {@link MIN_SERIES_SECONDS}: a history shorter than the span then spans the whole series.
 */
export async function trafficSeries(
  source: TrafficWindows,
  app: string,
  query: TrafficQuery,
): Promise<TrafficSeries> {
  const stepMs = query.stepSeconds * 1000;
  const buckets = Math.max(1, Math.floor(query.seconds / query.stepSeconds));
  const toMs = Math.floor(query.nowMs / 1000) * 1000;
  const fromMs = toMs - buckets * stepMs;
  const timestamps = Array.from({ length: buckets }, (_, i) => fromMs + (i + 1) * stepMs);
  const versions = {} as Record<Role, VersionSeries>;
  const read = await Promise.all(
    SERIES_VERSIONS.map((version) => source.buckets(app, version, fromMs, toMs, stepMs)),
  );
  for (const [v, version] of SERIES_VERSIONS.entries()) {
    const series = emptySeries();
    let seen = false;
    for (const snap of read[v]!) {
      const served = snap.requests + snap.mirrored;
      series.requests.push(served);
      seen ||= served > 0;
      series.rps.push(seen ? served / query.stepSeconds : null);
      if (served === 0) {
        series.successRate.push(null);
        series.p50Ms.push(null);
        series.p99Ms.push(null);
        continue;
      }
      const latency = snap.latency.clone();
      latency.merge(snap.mirroredLatency);
      series.successRate.push((100 * (served - snap.errors5xx - snap.mirroredErrors)) / served);
      series.p50Ms.push(latency.quantile(0.5));
      series.p99Ms.push(latency.quantile(0.99));
    }
    versions[version] = series;
  }
  const lead = emptyLead(versions, buckets, Math.ceil(MIN_SERIES_SECONDS / query.stepSeconds));
  if (lead === 0) return { app, fromMs, toMs, stepMs, timestamps, versions };
  for (const version of SERIES_VERSIONS) {
    const series = versions[version];
    for (const values of [series.requests, series.rps, series.successRate, series.p50Ms, series.p99Ms])
      values.splice(0, lead);
  }
  return { app, fromMs: fromMs + lead * stepMs, toMs, stepMs, timestamps: timestamps.slice(lead), versions };
}

/** What the traffic route reads; a `Runtime` satisfies it. */
export interface TrafficRouteSources {
  readonly controller: Pick<RolloutController, 'spec'>;
  /** The router engine's per-version traffic, in process or over the admin API. */
  readonly router: { readonly traffic: TrafficWindows };
}

/**
 * `GET /api/v1/rollouts/{app}/traffic`. The app must exist (AVIARY_NOT_FOUND otherwise):
 * the router creates a window on first read, so an unchecked name would let any caller grow
 * memory one window per name. `now` is injectable for tests (default Date.now).
 */
export function trafficRoute(sources: TrafficRouteSources, now: () => number = Date.now): ExtraRoute {
  return async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const match = /^\/api\/v1\/rollouts\/([^/]+)\/traffic$/.exec(url.pathname);
    if (req.method !== 'GET' || !match) return false;
    const app = decodeURIComponent(match[1] ?? '');
    sources.controller.spec(app);
    const traffic = sources.router.traffic;
    const query = parseTrafficQuery(url.searchParams, traffic.windowSeconds, now());
    sendJson(res, 200, await trafficSeries(traffic, app, query));
    return true;
  };
}
