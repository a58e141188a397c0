/**
 * Per-version traffic of `aviary proxy` instances read over their admin APIs
 * (`GET /services/{app}/versions/{v}/traffic`), for the judge and the dashboard when the data
 * plane runs in other processes: the supervised proxy of `router.process: separate`, or the
 * instances of `router.kind: aviary-admin`. Counts add up and sketches merge exactly, so N
 * instances read as the one data plane they are; an instance that does not answer fails the
 * read rather than making it silently partial.
 */
import { request } from 'undici';
import { AviaryError } from '../errors.js';
import { LatencySketch, type LatencySketchJson } from '../analysis/latency-sketch.js';
import type { TrafficBucket, TrafficWindows } from '../analysis/traffic-source.js';
import { DEFAULT_WINDOW_SECONDS } from '../proxy/stats/rolling-window.js';

/** Limit per admin request unless told otherwise. */
export const DEFAULT_ADMIN_TIMEOUT_MS = 5_000;

/**
 * GETs `path` of one admin API as text. Every failure — unreachable, timed out, non-200 — is
 * AVIARY_ROUTER_UNAVAILABLE naming the instance and `what` was read.
 */
export async function readAdminText(
  baseUrl: string,
  path: string,
  params: Record<string, string>,
  what: string,
  options: { timeoutMs?: number | undefined; signal?: AbortSignal | undefined } = {},
): Promise<string> {
  const target = new URL(path, baseUrl);
  for (const [name, value] of Object.entries(params)) target.searchParams.set(name, value);
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_ADMIN_TIMEOUT_MS);
  const { signal } = options;
  try {
    const response = await request(target, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    const body = await response.body.text();
    if (response.statusCode !== 200) {
      throw new AviaryError(
        'AVIARY_ROUTER_UNAVAILABLE',
        `router instance ${baseUrl}: ${what}: HTTP ${response.statusCode}`,
      );
    }
    return body;
  } catch (err) {
    signal?.throwIfAborted();
    if (err instanceof AviaryError) throw err;
    throw new AviaryError(
      'AVIARY_ROUTER_UNAVAILABLE',
      `router instance ${baseUrl}: ${what}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** {@link readAdminText}, parsed as JSON. */
export async function readAdminJson<T>(
  baseUrl: string,
  path: string,
  params: Record<string, string>,
  what: string,
  options: { timeoutMs?: number | undefined; signal?: AbortSignal | undefined } = {},
): Promise<T> {
  return JSON.parse(await readAdminText(baseUrl, path, params, what, options)) as T;
}

/** The admin API path of one version's traffic. */
export function trafficPath(app: string, version: string): string {
  return `/services/${encodeURIComponent(app)}/versions/${encodeURIComponent(version)}/traffic`;
}

/** One bucket (or one `seconds` read) as the admin API sends it. */
export interface BucketAnswer {
  readonly requests: number;
  readonly errors5xx: number;
  readonly mirrored: number;
  readonly mirroredErrors: number;
  readonly latency: LatencySketchJson;
  readonly mirroredLatency: LatencySketchJson;
}

/** {@link TrafficWindows} summed over every instance's admin API. */
export class AdminApiTraffic implements TrafficWindows {
  readonly windowSeconds = DEFAULT_WINDOW_SECONDS;

  constructor(private readonly options: { readonly urls: readonly string[]; readonly timeoutMs?: number }) {}

  async buckets(
    app: string,
    version: string,
    fromMs: number,
    toMs: number,
    stepMs: number,
    signal?: AbortSignal,
  ): Promise<TrafficBucket[]> {
    const params = { from: String(fromMs), to: String(toMs), step: String(stepMs) };
    const answers = await Promise.all(
      this.options.urls.map((url) =>
        readAdminJson<{ buckets: BucketAnswer[] }>(
          url,
          trafficPath(app, version),
          params,
          `traffic of ${app}/${version}`,
          {
            timeoutMs: this.options.timeoutMs,
            signal,
          },
        ),
      ),
    );
    const count = Math.max(0, ...answers.map((a) => a.buckets.length));
    return Array.from({ length: count }, (_, i) =>
      sumAnswers(answers.flatMap((answer) => answer.buckets[i] ?? [])),
    );
  }
}

/** Instances' answers for one interval summed: counts add up, sketches merge exactly. */
export function sumAnswers(answers: readonly BucketAnswer[]): TrafficBucket {
  const sum = {
    requests: 0,
    errors5xx: 0,
    mirrored: 0,
    mirroredErrors: 0,
    latency: new LatencySketch(),
    mirroredLatency: new LatencySketch(),
  };
  for (const answer of answers) {
    sum.requests += answer.requests;
    sum.errors5xx += answer.errors5xx;
    sum.mirrored += answer.mirrored;
    sum.mirroredErrors += answer.mirroredErrors;
    sum.latency.merge(LatencySketch.fromJSON(answer.latency));
    sum.mirroredLatency.merge(LatencySketch.fromJSON(answer.mirroredLatency));
  }
  return sum;
}
