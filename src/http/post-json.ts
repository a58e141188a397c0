/**
 * The outbound JSON POST behind rollout webhooks and alert notifiers: a per-attempt timeout,
 * a bounded number of retries with a short backoff, a capped read of the response body, and
 * cancellation through an `AbortSignal`. It never throws for HTTP or network trouble; only a
 * cancelled signal rejects, so a shutdown cannot be mistaken for a failed check.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { request } from 'undici';
import { AviaryError } from '../errors.js';

/** Outcome of one POST, after every attempt. */
export interface PostResult {
  /** True when the last attempt's status was accepted by `isSuccess`. */
  readonly ok: boolean;
  /** HTTP status of the last attempt that got a response; absent after a network error or timeout. */
  readonly status?: number;
  /** The response body (truncated) or a sentence naming what failed. */
  readonly message: string;
  /** Attempts made, 1 + the retries used. */
  readonly attempts: number;
  /** Wall time from the first attempt to the result, in milliseconds. */
  readonly durationMs: number;
}

/** Options for {@link postJson}. */
export interface PostJsonOptions {
  /** Per-attempt limit covering connect, headers and body, in milliseconds. */
  readonly timeoutMs: number;
  /** Extra attempts after the first (0 = try once). */
  readonly retries: number;
  /** Names the request in messages, e.g. `webhook load-test POST http://tester/`. Never put secrets here. */
  readonly label: string;
  /** Which statuses count as success. */
  readonly isSuccess: (status: number) => boolean;
  /** Cancels the current attempt and every later one; the promise then rejects with `signal.reason`. */
  readonly signal?: AbortSignal | undefined;
  /** Extra request headers (content-type is always `application/json`). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Pause before retry `n` (1-based). Default {@link defaultBackoffMs}. */
  readonly backoffMs?: ((retry: number) => number) | undefined;
  /** Monotonic clock for `durationMs`. Default `performance.now`. */
  readonly now?: (() => number) | undefined;
}

/** Bytes of response body kept for the message; the rest is discarded unread. */
export const RESPONSE_BODY_LIMIT_BYTES = 4096;
/** Characters of body text kept in {@link PostResult.message}. */
export const MESSAGE_LIMIT_CHARS = 1000;

/** 250 ms, 500 ms, 1 s, then 2 s for every later retry. */
export function defaultBackoffMs(retry: number): number {
  return Math.min(2000, 250 * 2 ** (retry - 1));
}

// A status that will not change on a retry (403 from a closed gate, 400 from a bad payload)
// is final; 429 and 5xx are the transient answers, as in go-retryablehttp's default policy
// that Flagger's webhook client uses.
function isTransient(status: number): boolean {
  return status === 429 || (status >= 500 && status !== 501);
}

/**
 * POSTs `body` as JSON. Retries network errors, timeouts, 429 and 5xx (except 501) up to
 * `retries` times; any other status is final. Resolves with a {@link PostResult} in every case
 * except cancellation.
 * @throws AviaryError `AVIARY_HTTP_OPTION_INVALID` when `timeoutMs` or `retries` is out of range.
 */
export async function postJson(url: string, body: unknown, options: PostJsonOptions): Promise<PostResult> {
  checkOptions(options);
  const now = options.now ?? (() => performance.now());
  const backoff = options.backoffMs ?? defaultBackoffMs;
  const payload = JSON.stringify(body);
  const started = now();
  let attempts = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    attempts += 1;
    const attempt = await attemptPost(url, payload, options);
    const last = attempts > options.retries;
    if (attempt.final || last) {
      return { ...attempt.result, attempts, durationMs: now() - started };
    }
    await pause(backoff(attempts), options.signal);
  }
}

function checkOptions(options: PostJsonOptions): void {
  if (!(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)) {
    throw new AviaryError(
      'AVIARY_HTTP_OPTION_INVALID',
      `${options.label}: timeoutMs must be a positive number of milliseconds, got ${options.timeoutMs}`,
    );
  }
  if (!(Number.isInteger(options.retries) && options.retries >= 0)) {
    throw new AviaryError(
      'AVIARY_HTTP_OPTION_INVALID',
      `${options.label}: retries must be a whole number >= 0, got ${options.retries}`,
    );
  }
}

interface AttemptOutcome {
  readonly result: { ok: boolean; status?: number; message: string };
  readonly final: boolean;
}

async function attemptPost(url: string, payload: string, options: PostJsonOptions): Promise<AttemptOutcome> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout.signal]) : timeout.signal;
  try {
    const response = await request(url, {
      method: 'POST',
      headers: { ...options.headers, 'content-type': 'application/json', 'user-agent': 'aviary' },
      body: payload,
      signal,
    });
    const text = await readCapped(response.body);
    const status = response.statusCode;
    const ok = options.isSuccess(status);
    const message = ok
      ? text
      : text.trim() === ''
        ? `${options.label} answered ${status} with an empty body`
        : text;
    return { result: { ok, status, message: truncate(message) }, final: ok || !isTransient(status) };
  } catch (error) {
    options.signal?.throwIfAborted();
    const message = timeout.signal.aborted
      ? `${options.label} timed out after ${options.timeoutMs} ms`
      : `${options.label} failed: ${describeNetworkError(error)}`;
    return { result: { ok: false, message }, final: false };
  } finally {
    clearTimeout(timer);
  }
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= RESPONSE_BODY_LIMIT_BYTES) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, RESPONSE_BODY_LIMIT_BYTES).toString('utf8');
}

function truncate(text: string): string {
  return text.length > MESSAGE_LIMIT_CHARS ? `${text.slice(0, MESSAGE_LIMIT_CHARS)}… (truncated)` : text;
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code ?? (error.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? `${error.message} (${code})` : error.message;
}

async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0) return;
  try {
    await delay(ms, undefined, signal ? { signal } : undefined);
  } catch (error) {
    signal?.throwIfAborted();
    throw error;
  }
}

/**
 * A URL fit for logs and messages: scheme, host, port and path, without credentials or query.
 * With `originOnly`, the path is hidden too — alert provider addresses carry their secret in
 * the path (`https://hooks.slack.com/services/T…/B…/token`).
 */
export function displayUrl(url: string, originOnly = false): string {
  try {
    const parsed = new URL(url);
    if (originOnly) return `${parsed.protocol}//${parsed.host}/…`;
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}${parsed.search === '' ? '' : '?…'}`;
  } catch {
    return '(invalid URL)';
  }
}
