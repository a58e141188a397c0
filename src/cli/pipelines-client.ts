/**
 * The CLI's client of the pipeline endpoints of the control API (src/api/pipeline-routes.ts):
 * runs, a run's log (read whole, or followed as a plain-text stream until the run ends),
 * rerun, cancel, artifacts and their garbage collection. JSON calls go through
 * {@link ControlClient}, so addresses, tokens and error answers behave as in every other
 * command; a run the API does not know is named in the error.
 */
import { request } from 'undici';
import type { RunFilter } from '../api/pipeline-routes.js';
import type { ArtifactEntry } from '../pipelines/artifacts/artifact-index.js';
import type { CollectionReport } from '../pipelines/artifacts/artifact-store.js';
import type { RunRecord } from '../pipelines/runs/run-record.js';
import {
  ControlApiError,
  controlClientFor,
  errorForAnswer,
  unreachable,
  type ApiOptions,
  type ControlClient,
  type TokenOptions,
} from './control-client.js';

/** An artifact as `GET /api/v1/artifacts` lists it. */
export type ListedArtifact = ArtifactEntry & { readonly referenced: boolean };

/** How long a log read without `follow` may take. */
const LOG_TIMEOUT_MS = 30_000;

function runPath(id: string): string {
  return `/api/v1/pipelines/runs/${encodeURIComponent(id)}`;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { error: { message: text.slice(0, 200) } };
  }
}

/**
 * A 404 for run `id` as the user should read it: the run, not an app, is unknown. Other
 * errors pass unchanged.
 */
function namingRun(id: string, err: unknown): unknown {
  if (!(err instanceof ControlApiError) || err.serverCode !== 'AVIARY_RUN_NOT_FOUND') return err;
  return new ControlApiError(
    'AVIARY_NOT_FOUND',
    `run ${id}: not found (it never existed, was pruned from history, or this Aviary has no pipelines block); \`aviary pipelines list\` shows the runs`,
    err.status,
    err.serverCode,
  );
}

/** Runs `call`, an API call about run `id`, naming the run when the API does not know it. */
async function aboutRun<T>(id: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw namingRun(id, err);
  }
}

/** The pipeline and artifact calls of the control API. */
export class PipelinesClient {
  readonly #control: ControlClient;
  readonly #baseUrl: string;

  /** A client for a command's `--api` and token options. @throws AviaryError AVIARY_USAGE for a malformed `--api` */
  constructor(options: ApiOptions & Partial<Omit<TokenOptions, 'api'>>) {
    this.#control = controlClientFor(options);
    this.#baseUrl = options.api;
  }

  /** Runs, newest first, selected by `filter`. */
  runs(filter: RunFilter = {}): Promise<RunRecord[]> {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(filter))
      if (value !== undefined) query.set(name, String(value));
    const search = query.size > 0 ? `?${query.toString()}` : '';
    return this.#control.get<RunRecord[]>(`/api/v1/pipelines/runs${search}`);
  }

  /** Run `id`. */
  run(id: string): Promise<RunRecord> {
    return aboutRun(id, () => this.#control.get<RunRecord>(runPath(id)));
  }

  /** Queues a new run with run `id`'s inputs; resolves the new run. Needs the token. */
  async rerun(id: string): Promise<RunRecord> {
    return (await aboutRun(id, () => this.#control.post(`${runPath(id)}/rerun`))) as RunRecord;
  }

  /** Cancels run `id`; resolves it once ended. A finished run is refused (409). Needs the token. */
  async cancel(id: string): Promise<RunRecord> {
    return (await aboutRun(id, () => this.#control.post(`${runPath(id)}/cancel`))) as RunRecord;
  }

  /**
   * Run `id`'s log as text, chunk by chunk: what is written so far, or with `follow` until
   * the run has ended. Aborting `signal` ends the iteration quietly.
   */
  async *log(
    id: string,
    options: { readonly follow?: boolean; readonly signal?: AbortSignal } = {},
  ): AsyncGenerator<string> {
    const follow = options.follow === true;
    const path = `${runPath(id)}/log${follow ? '?follow' : ''}`;
    const signals = [options.signal, follow ? undefined : AbortSignal.timeout(LOG_TIMEOUT_MS)];
    const signal = AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined));
    let res;
    try {
      res = await request(new URL(path, this.#baseUrl), {
        headers: { accept: 'text/plain' },
        signal,
        // A build step may print nothing for a long time; the run's end closes the stream.
        ...(follow ? { bodyTimeout: 0 } : {}),
      });
    } catch (err) {
      if (options.signal?.aborted === true) return;
      throw unreachable(this.#baseUrl, err, LOG_TIMEOUT_MS);
    }
    if (res.statusCode >= 400) {
      const answer = errorForAnswer(res.statusCode, safeJson(await res.body.text()), `GET ${path}`);
      throw namingRun(id, answer);
    }
    // UTF-8 is decoded across chunk boundaries: a chunk may end inside a character.
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body) {
        const text = decoder.decode(chunk as Buffer, { stream: true });
        if (text !== '') yield text;
      }
    } catch (err) {
      if (options.signal?.aborted === true) return;
      throw err;
    }
    const rest = decoder.decode();
    if (rest !== '') yield rest;
  }

  /** Every artifact in the index, collected ones included, each with `referenced`. */
  artifacts(): Promise<ListedArtifact[]> {
    return this.#control.get<ListedArtifact[]>('/api/v1/artifacts');
  }

  /** Removes every artifact no release references; resolves what was removed. Needs the token. */
  async collectGarbage(): Promise<CollectionReport> {
    return (await this.#control.post('/api/v1/artifacts/gc')) as CollectionReport;
  }
}
