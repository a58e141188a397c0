/**
 * The CLI's client of the control API that `aviary up` serves: where it is (`--api`), which
 * token a mutation carries (`--token`, `AVIARY_TOKEN`, `--token-file`), JSON reads, POSTs,
 * and the Server-Sent Events stream. HTTP answers become {@link AviaryError}s with stable
 * codes, which main.ts turns into the documented exit codes.
 */
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { request } from 'undici';
import { isErrorCode, type ErrorCode } from '../error-catalogue.js';
import { AviaryError } from '../errors.js';
import { readServerSentEvents, type ServerSentEvent } from './control-event-stream.js';

/** Control API address when neither `--api` nor `AVIARY_API` is given (`aviary up`'s default). */
export const DEFAULT_API_URL = 'http://127.0.0.1:8081';
/** Token file when `--token-file` is not given: `aviary up` writes `<stateDir>/token`, stateDir `.aviary`. */
export const DEFAULT_TOKEN_FILE = '.aviary/token';
/** Per-request limit for reads and commands (not for the event stream). */
const REQUEST_TIMEOUT_MS = 10_000;

/** Options every command that talks to the control API accepts. */
export interface ApiOptions {
  readonly api: string;
}

/** Options of the commands that change state. */
export interface TokenOptions extends ApiOptions {
  readonly token?: string;
  readonly tokenFile: string;
}

/** Adds `--api` to a command. */
export function addApiOption(command: Command): Command {
  return command.option(
    '--api <url>',
    'control API of `aviary up` (AVIARY_API sets the default)',
    process.env.AVIARY_API?.trim() || DEFAULT_API_URL,
  );
}

/**
 * Adds `--api`, `--token` and `--token-file`. Security: a token on the command line is
 * visible to other local users in the process list; prefer the token file or AVIARY_TOKEN.
 */
export function addTokenOptions(command: Command): Command {
  return addApiOption(command)
    .option(
      '--token <token>',
      'bearer token (visible in the process list; prefer AVIARY_TOKEN or --token-file)',
    )
    .option('--token-file <file>', 'file holding the token that `aviary up` wrote', DEFAULT_TOKEN_FILE);
}

/** The token a mutation sends, and where it came from (for error messages; never the token itself). */
export interface ResolvedToken {
  readonly token: string | undefined;
  readonly source: string;
}

/**
 * Finds the token: `--token`, then `AVIARY_TOKEN`, then the token file. Unlike `aviary up`
 * this never creates a file: a client with a fresh random token could only be refused.
 */
export async function resolveClientToken(
  options: Pick<TokenOptions, 'token' | 'tokenFile'>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedToken> {
  if (options.token !== undefined && options.token.trim() !== '')
    return { token: options.token.trim(), source: '--token' };
  const fromEnv = env.AVIARY_TOKEN?.trim();
  if (fromEnv) return { token: fromEnv, source: 'AVIARY_TOKEN' };
  try {
    const fromFile = (await readFile(options.tokenFile, 'utf8')).trim();
    if (fromFile !== '') return { token: fromFile, source: options.tokenFile };
    return { token: undefined, source: `${options.tokenFile} (empty)` };
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : (err as Error).message;
    return { token: undefined, source: `${options.tokenFile} (${reason})` };
  }
}

/** An error answer of the control API; `code` is the CLI's, `serverCode` what the API said. */
export class ControlApiError extends AviaryError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly status: number,
    readonly serverCode: string | undefined,
  ) {
    super(code, message);
  }
}

function tokenAdvice(token: ResolvedToken | undefined): string {
  const where =
    'set AVIARY_TOKEN, or pass --token-file <stateDir>/token (the file `aviary up` wrote; default .aviary/token)';
  if (token?.token === undefined)
    return `no token was sent (looked at --token, AVIARY_TOKEN and ${token?.source ?? DEFAULT_TOKEN_FILE}): ${where}`;
  return `the token from ${token.source} does not match the one \`aviary up\` uses: ${where}`;
}

/** Maps an error answer to an {@link AviaryError} whose code main.ts turns into an exit code. */
export function errorForAnswer(
  status: number,
  body: unknown,
  call: string,
  token?: ResolvedToken,
): ControlApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const serverCode = typeof error?.code === 'string' ? error.code : undefined;
  const said = typeof error?.message === 'string' ? error.message : `HTTP ${status}`;
  if (status === 401)
    return new ControlApiError(
      'AVIARY_UNAUTHORIZED',
      `${call}: refused (401): ${tokenAdvice(token)}`,
      status,
      serverCode,
    );
  if (status === 404) {
    const hint = said.startsWith('no endpoint')
      ? `${said}; does --api point at the control API of \`aviary up\`?`
      : `unknown app: ${said}`;
    return new ControlApiError('AVIARY_NOT_FOUND', `${call}: ${hint}`, status, serverCode);
  }
  if (status === 409)
    return new ControlApiError('AVIARY_CONFLICT', `${call}: refused (409): ${said}`, status, serverCode);
  return new ControlApiError(
    isErrorCode(serverCode) ? serverCode : 'AVIARY_API_ERROR',
    `${call}: HTTP ${status}: ${said}`,
    status,
    serverCode,
  );
}

/** The error for a request that got no answer: a timeout, or the control API not reachable. */
export function unreachable(baseUrl: string, err: unknown, timeoutMs: number): AviaryError {
  if ((err as Error).name === 'TimeoutError')
    return new AviaryError(
      'AVIARY_API_TIMEOUT',
      `the control API at ${baseUrl} did not answer within ${timeoutMs / 1000} s`,
      { cause: err },
    );
  const code = (err as { code?: unknown }).code;
  const cause = typeof code === 'string' ? code : (err as Error).message;
  return new AviaryError(
    'AVIARY_API_UNREACHABLE',
    `cannot reach the control API at ${baseUrl} (${cause}): is \`aviary up\` running? Point --api or AVIARY_API at it`,
    { cause: err },
  );
}

function userName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** Options of a {@link ControlClient}. */
export interface ControlClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:8081`. */
  readonly baseUrl: string;
  /** Token options; needed only by {@link ControlClient.post}. */
  readonly token?: Pick<TokenOptions, 'token' | 'tokenFile'>;
  /** Per-request limit in ms; default 10 s. */
  readonly timeoutMs?: number;
}

/** JSON over HTTP to the control API. */
export class ControlClient {
  private resolved: ResolvedToken | undefined;

  constructor(private readonly options: ControlClientOptions) {
    try {
      new URL(options.baseUrl);
    } catch {
      throw new AviaryError(
        'AVIARY_USAGE',
        `--api: expected a URL such as ${DEFAULT_API_URL}, got "${options.baseUrl}"`,
      );
    }
  }

  private url(path: string): URL {
    return new URL(path, this.options.baseUrl);
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? REQUEST_TIMEOUT_MS;
  }

  private signal(signal: AbortSignal | undefined): AbortSignal {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    return signal ? AbortSignal.any([signal, timeout]) : timeout;
  }

  private async send(
    method: 'GET' | 'POST',
    path: string,
    body?: object,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (method === 'POST') {
      this.resolved ??= await resolveClientToken(this.options.token ?? { tokenFile: DEFAULT_TOKEN_FILE });
      if (this.resolved.token !== undefined) headers.authorization = `Bearer ${this.resolved.token}`;
      headers['content-type'] = 'application/json';
      headers['x-aviary-user'] = `cli:${userName()}`;
    }
    let res;
    try {
      res = await request(this.url(path), {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: this.signal(signal),
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw unreachable(this.options.baseUrl, err, this.timeoutMs);
    }
    const text = await res.body.text();
    let parsed: unknown = null;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      parsed = { error: { message: text.slice(0, 200) } };
    }
    if (res.statusCode >= 400)
      throw errorForAnswer(res.statusCode, parsed, `${method} ${path}`, this.resolved);
    return parsed;
  }

  /** GETs `path` and returns the parsed JSON body. */
  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.send('GET', path, undefined, signal) as Promise<T>;
  }

  /** POSTs `body` to `path` with the bearer token. */
  post(path: string, body: object = {}, signal?: AbortSignal): Promise<unknown> {
    return this.send('POST', path, body, signal);
  }

  /**
   * Opens `GET path` as an event stream and yields its messages until the server ends it or
   * `signal` aborts (which ends the iteration quietly).
   */
  async *stream(path: string, signal: AbortSignal): AsyncGenerator<ServerSentEvent> {
    let res;
    try {
      res = await request(this.url(path), {
        headers: { accept: 'text/event-stream' },
        signal,
        // The server sends a comment every 15 s; the stream may stay quiet far longer than that.
        bodyTimeout: 0,
      });
    } catch (err) {
      if (signal.aborted) return;
      throw unreachable(this.options.baseUrl, err, this.timeoutMs);
    }
    if (res.statusCode >= 400) {
      const text = await res.body.text();
      throw errorForAnswer(res.statusCode, safeJson(text), `GET ${path}`);
    }
    try {
      yield* readServerSentEvents(res.body);
    } catch (err) {
      if (signal.aborted) return;
      throw err;
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** A client for a command's `--api` and token options. */
export function controlClientFor(options: ApiOptions & Partial<Omit<TokenOptions, 'api'>>): ControlClient {
  return new ControlClient({
    baseUrl: options.api,
    token: {
      ...(options.token !== undefined ? { token: options.token } : {}),
      tokenFile: options.tokenFile ?? DEFAULT_TOKEN_FILE,
    },
  });
}
