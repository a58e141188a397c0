/**
 * The Prometheus metric provider: instant queries through the HTTP API
 * (https://prometheus.io/docs/prometheus/latest/querying/api/) with a per-request timeout and
 * cancellation, and a health check. Every way a query can fail ends in a
 * `MetricQueryError` whose code says which policy applies (metric-provider.ts).
 */
import { request } from 'undici';
import { displayUrl } from '../http/post-json.js';
import { MetricQueryError, type MetricProvider, type MetricQueryErrorCode } from './metric-provider.js';

/** Default limit per request: a query over a long interval is slow, a dead server is not worth more. */
export const PROMETHEUS_TIMEOUT_MS = 5000;
/** Largest answer read; a query returning thousands of series is a mistake, not data. */
export const PROMETHEUS_BODY_LIMIT_BYTES = 1 << 20;

/** Settings of a {@link PrometheusProvider}. */
export interface PrometheusProviderOptions {
  /** Base URL, e.g. `http://127.0.0.1:9090` or `https://host/prometheus` (a path prefix is kept). */
  readonly address: string;
  /**
   * Headers sent with every request, e.g. `Authorization: Bearer …` for a proxy in front of
   * Prometheus. Security: they are never included in messages or events.
   */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Limit per request (connect, headers and body) in ms. Default {@link PROMETHEUS_TIMEOUT_MS}. */
  readonly timeoutMs?: number | undefined;
}

interface ApiAnswer {
  readonly status: number;
  readonly text: string;
}

/** {@link MetricProvider} for Prometheus and servers with its query API (Thanos, Mimir, VictoriaMetrics). */
export class PrometheusProvider implements MetricProvider {
  readonly kind = 'prometheus';
  private readonly base: string;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly timeoutMs: number;
  /** The address for messages: no credentials, no query string. */
  readonly label: string;

  constructor(options: PrometheusProviderOptions) {
    this.base = options.address.replace(/\/+$/, '');
    this.headers = options.headers ?? {};
    this.timeoutMs = options.timeoutMs ?? PROMETHEUS_TIMEOUT_MS;
    this.label = `prometheus ${displayUrl(this.base)}`;
  }

  /**
   * Runs an instant query (`GET /api/v1/query`) and returns its one value. An instant vector
   * must hold exactly one sample; a scalar is taken as is. `+Inf` and `-Inf` are numbers.
   */
  async runQuery(query: string, signal: AbortSignal): Promise<number> {
    const answer = await this.get(`/api/v1/query?${new URLSearchParams({ query }).toString()}`, signal);
    const body = parseJson(answer.text);
    if (answer.status !== 200 || body?.status !== 'success') {
      throw this.queryError(answer, body);
    }
    return this.valueOf(body.data, query);
  }

  /**
   * True when `/-/ready` answers 200. Servers that expose only the query API (a proxy, Thanos
   * Query, Mimir) answer it with 404; for them `vector(1)` must return 1, as Flagger checks.
   */
  async isOnline(signal: AbortSignal): Promise<boolean> {
    try {
      const ready = await this.get('/-/ready', signal);
      if (ready.status === 200) return true;
      if (ready.status !== 404) return false;
      return (await this.runQuery('vector(1)', signal)) === 1;
    } catch (err) {
      signal.throwIfAborted();
      if (err instanceof MetricQueryError) return false;
      throw err;
    }
  }

  private async get(path: string, signal: AbortSignal): Promise<ApiAnswer> {
    signal.throwIfAborted();
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.timeoutMs);
    try {
      const response = await request(`${this.base}${path}`, {
        method: 'GET',
        headers: { ...this.headers, accept: 'application/json', 'user-agent': 'aviary' },
        signal: AbortSignal.any([signal, timeout.signal]),
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > PROMETHEUS_BODY_LIMIT_BYTES) {
          response.body.destroy();
          throw new MetricQueryError(
            'AVIARY_PROVIDER_ERROR',
            `${this.label} answered more than ${PROMETHEUS_BODY_LIMIT_BYTES} bytes; aggregate the query to one series`,
          );
        }
        chunks.push(chunk);
      }
      return { status: response.statusCode, text: Buffer.concat(chunks).toString('utf8') };
    } catch (err) {
      signal.throwIfAborted();
      if (err instanceof MetricQueryError) throw err;
      const why = timeout.signal.aborted ? `timed out after ${this.timeoutMs} ms` : describeNetworkError(err);
      throw new MetricQueryError(
        'AVIARY_PROVIDER_UNREACHABLE',
        `provider unreachable: ${this.label} ${why}`,
        {
          cause: err,
        },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private queryError(answer: ApiAnswer, body: ApiBody | undefined): MetricQueryError {
    // Prometheus answers 400 bad_data for a query that does not parse, 422 for one that fails
    // while running, 503 on timeout or overload; the `error` text is what a user needs to fix it.
    const text = typeof body?.error === 'string' ? body.error : snippet(answer.text);
    const type = typeof body?.errorType === 'string' ? ` (${body.errorType})` : '';
    const code: MetricQueryErrorCode =
      answer.status === 400 ? 'AVIARY_METRIC_QUERY_INVALID' : 'AVIARY_PROVIDER_ERROR';
    const what = answer.status === 400 ? 'rejected the query' : `answered ${answer.status}`;
    return new MetricQueryError(code, `${this.label} ${what}${type}: ${text}`);
  }

  private valueOf(data: unknown, query: string): number {
    const shown = query.length > 200 ? `${query.slice(0, 197)}...` : query;
    if (!isRecord(data)) {
      throw new MetricQueryError('AVIARY_PROVIDER_ERROR', `${this.label} answered without data for ${shown}`);
    }
    if (data.resultType === 'scalar') return this.sampleValue(data.result, shown);
    if (data.resultType !== 'vector' || !Array.isArray(data.result)) {
      throw new MetricQueryError(
        'AVIARY_PROVIDER_ERROR',
        `${this.label} answered a ${String(data.resultType)} for ${shown}; expected an instant vector or a scalar`,
      );
    }
    const series = data.result as unknown[];
    if (series.length === 0) {
      throw new MetricQueryError('AVIARY_METRIC_NO_VALUES', `no values found for ${shown}`);
    }
    if (series.length > 1) {
      throw new MetricQueryError(
        'AVIARY_METRIC_MULTIPLE_SERIES',
        `query returned ${series.length} series, expected 1; aggregate it (e.g. sum(...)) so it yields one number: ${shown}`,
      );
    }
    const first = series[0];
    return this.sampleValue(isRecord(first) ? first.value : undefined, shown);
  }

  private sampleValue(sample: unknown, shown: string): number {
    const raw = Array.isArray(sample) ? (sample as unknown[])[1] : undefined;
    // The API encodes sample values as strings, special values included ("NaN", "+Inf", "-Inf").
    const value =
      raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : typeof raw === 'string' ? Number(raw) : NaN;
    if (raw === 'NaN') {
      throw new MetricQueryError(
        'AVIARY_METRIC_NAN',
        `value is NaN (no traffic in the interval?) for ${shown}`,
      );
    }
    if (Number.isNaN(value)) {
      throw new MetricQueryError(
        'AVIARY_PROVIDER_ERROR',
        `${this.label} answered a sample that is not a number (${JSON.stringify(raw) ?? 'nothing'}) for ${shown}`,
      );
    }
    return value;
  }
}

interface ApiBody {
  readonly status?: unknown;
  readonly data?: unknown;
  readonly error?: unknown;
  readonly errorType?: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJson(text: string): ApiBody | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return isRecord(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function snippet(text: string): string {
  const trimmed = text.trim();
  if (trimmed === '') return 'empty body';
  return trimmed.length > 300 ? `${trimmed.slice(0, 297)}...` : trimmed;
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code ?? (error.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? `${error.message} (${code})` : error.message;
}
