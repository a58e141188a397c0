/**
 * One `aviary proxy` admin API, as the admin API router uses it: reads the configuration,
 * and changes it by a read-modify-write of the whole document guarded by
 * `If-Match: <generation>`, retried when another writer got there first, so concurrent
 * controllers never lose an update. Every error names the instance; one that cannot be
 * reached, or does not answer in time, is `AVIARY_ROUTER_UNAVAILABLE`.
 */
import { request } from 'undici';
import { ConfigError, type ConfigIssue } from '../config/config-error.js';
import type { ProxyConfig } from '../config/proxy-schema.js';
import { AviaryError } from '../errors.js';

/** Where one `aviary proxy` admin API answers and the token its mutations need. */
export interface AdminEndpoint {
  /** Base URL of the admin API, e.g. `http://127.0.0.1:9901`. */
  readonly url: string;
  /** Bearer token of the admin API (`--token-file` or `AVIARY_TOKEN` of `aviary proxy`). Keep it secret. */
  readonly token: string;
}

/** A configuration and its generation, as `GET /config` answers. */
export interface GeneratedConfig {
  readonly generation: number;
  readonly config: ProxyConfig;
}

interface Answer {
  readonly status: number;
  readonly text: string;
}

const MAX_CONFLICT_RETRIES = 8;

/** Client of one admin API. */
export class AdminApiClient {
  /** The admin API's base URL, which every error names. */
  readonly url: string;

  constructor(
    private readonly endpoint: AdminEndpoint,
    private readonly timeoutMs: number,
  ) {
    this.url = endpoint.url;
  }

  /** Reads the configuration in force. */
  async readConfig(signal?: AbortSignal): Promise<GeneratedConfig> {
    const answer = await this.send('GET', undefined, {}, signal);
    if (answer.status !== 200) {
      throw new AviaryError(
        'AVIARY_ROUTER_UNAVAILABLE',
        `router ${this.url} answered ${answer.status} to GET /config: ${answer.text}`,
      );
    }
    return JSON.parse(answer.text) as GeneratedConfig;
  }

  /** Applies `change(current)` as the next configuration; `subject` names what changes in errors. */
  async update(
    subject: string,
    change: (config: ProxyConfig) => unknown,
    signal?: AbortSignal,
  ): Promise<void> {
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      const { generation, config } = await this.readConfig(signal);
      const headers = {
        authorization: `Bearer ${this.endpoint.token}`,
        'content-type': 'application/json',
        'if-match': String(generation),
      };
      const answer = await this.send('PUT', JSON.stringify(change(config)), headers, signal);
      if (answer.status === 200) return;
      if (answer.status === 409) continue;
      const error = parseError(answer.text);
      if (error?.issues) throw new ConfigError(`${subject} on router ${this.url}`, error.issues);
      // The instance's own code (e.g. AVIARY_UNAUTHORIZED for a wrong token) is kept in the message.
      const why = error
        ? `${error.code ?? answer.status}: ${error.message ?? ''}`
        : `status ${answer.status}`;
      throw new AviaryError('AVIARY_ROUTER_UNAVAILABLE', `router ${this.url} refused ${subject} (${why})`);
    }
    throw new AviaryError(
      'AVIARY_GENERATION_CONFLICT',
      `${subject}: the configuration of router ${this.url} kept changing under ${MAX_CONFLICT_RETRIES} tries`,
    );
  }

  private async send(
    method: 'GET' | 'PUT',
    body: string | undefined,
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<Answer> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    try {
      const res = await request(new URL('/config', this.url), {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      return { status: res.statusCode, text: await res.body.text() };
    } catch (error) {
      if (signal?.aborted) throw error;
      const why = timeout.aborted ? `no answer within ${this.timeoutMs} ms` : (error as Error).message;
      throw new AviaryError(
        'AVIARY_ROUTER_UNAVAILABLE',
        `router ${this.url} is unreachable (${method} /config: ${why}); check that \`aviary proxy\` runs there with its admin API on this address`,
        { cause: error },
      );
    }
  }
}

function parseError(text: string): { code?: string; message?: string; issues?: ConfigIssue[] } | undefined {
  try {
    return (JSON.parse(text) as { error?: { code?: string; message?: string; issues?: ConfigIssue[] } })
      .error;
  } catch {
    return undefined;
  }
}
