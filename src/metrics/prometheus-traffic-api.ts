/**
 * The few Prometheus HTTP API reads the judge's traffic needs, with their labels and
 * timestamps (the metric provider's `runQuery` keeps only one number): an instant query at a
 * given time answering a vector or, for a range selector, the raw samples
 * (https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries). Failures end
 * in a `MetricQueryError` whose code says which policy applies, as the provider's do.
 */
import { request } from 'undici';
import { displayUrl } from '../http/post-json.js';
import { MetricQueryError } from './metric-provider.js';

/** Largest answer read: raw samples of every series of a version over one read. */
export const TRAFFIC_BODY_LIMIT_BYTES = 16 << 20;

/** One series of an answer: its labels (without `__name__`) and its samples `[ms, value]`. */
export interface RawSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly samples: readonly (readonly [number, number])[];
}

/** Where and how to query. */
export interface PrometheusApiOptions {
  readonly address: string;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly timeoutMs: number;
}

/**
 * Runs `query` as an instant query at `atMs` (now when undefined). A vector answers one sample
 * per series, a matrix (a range selector) every raw sample in the range.
 */
export async function queryAt(
  options: PrometheusApiOptions,
  query: string,
  atMs: number | undefined,
  signal: AbortSignal | undefined,
): Promise<RawSeries[]> {
  const base = options.address.replace(/\/+$/, '');
  const label = `prometheus ${displayUrl(base)}`;
  const params = new URLSearchParams({ query });
  if (atMs !== undefined) params.set('time', (atMs / 1000).toFixed(3));
  signal?.throwIfAborted();
  const timeout = AbortSignal.timeout(options.timeoutMs);
  let status: number;
  let text: string;
  try {
    const response = await request(`${base}/api/v1/query?${params.toString()}`, {
      headers: { ...options.headers, accept: 'application/json', 'user-agent': 'aviary' },
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    status = response.statusCode;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > TRAFFIC_BODY_LIMIT_BYTES) {
        response.body.destroy();
        throw new MetricQueryError(
          'AVIARY_PROVIDER_ERROR',
          `${label} answered more than ${TRAFFIC_BODY_LIMIT_BYTES} bytes for ${query}; read shorter windows`,
        );
      }
      chunks.push(chunk);
    }
    text = Buffer.concat(chunks).toString('utf8');
  } catch (err) {
    signal?.throwIfAborted();
    if (err instanceof MetricQueryError) throw err;
    const why = timeout.aborted ? `timed out after ${options.timeoutMs} ms` : (err as Error).message;
    throw new MetricQueryError('AVIARY_PROVIDER_UNREACHABLE', `provider unreachable: ${label} ${why}`, {
      cause: err,
    });
  }
  let body: { status?: unknown; data?: { resultType?: unknown; result?: unknown }; error?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    body = {};
  }
  if (status !== 200 || body.status !== 'success') {
    const why = typeof body.error === 'string' ? body.error : text.slice(0, 300);
    throw new MetricQueryError(
      status === 400 ? 'AVIARY_METRIC_QUERY_INVALID' : 'AVIARY_PROVIDER_ERROR',
      `${label} answered ${status} for ${query}: ${why}`,
    );
  }
  return seriesOf(body.data?.resultType, body.data?.result, `${label} for ${query}`);
}

function seriesOf(type: unknown, result: unknown, what: string): RawSeries[] {
  if ((type !== 'vector' && type !== 'matrix') || !Array.isArray(result)) {
    throw new MetricQueryError(
      'AVIARY_PROVIDER_ERROR',
      `${what}: expected a vector or a matrix, got ${String(type)}`,
    );
  }
  return (result as { metric?: Record<string, string>; value?: unknown; values?: unknown }[]).map((entry) => {
    const labels: Record<string, string> = { ...entry.metric };
    delete labels.__name__;
    const raw: unknown = type === 'vector' ? [entry.value] : entry.values;
    if (!Array.isArray(raw))
      throw new MetricQueryError('AVIARY_PROVIDER_ERROR', `${what}: a series without samples`);
    const samples = (raw as unknown[]).map((pair): [number, number] => {
      const [seconds, value] = pair as [number, string];
      return [Math.round(seconds * 1000), Number(value)];
    });
    return { labels, samples };
  });
}

/** A stable key of a label set. */
export function labelKey(labels: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
