/**
 * Pipeline endpoints of the control API, mounted as an extra route
 * (docs/adr/0023-git-pipelines.md):
 *
 *   GET  /api/v1/pipelines/runs                   runs, newest first; ?source= ?pipeline=build|release
 *                                                 ?state= ?limit=N; [] without a `pipelines` block
 *   GET  /api/v1/pipelines/runs/stream            Server-Sent Events: `event: run`, one RunRecord per change
 *   GET  /api/v1/pipelines/runs/{id}              one RunRecord (404 AVIARY_RUN_NOT_FOUND)
 *   GET  /api/v1/pipelines/runs/{id}/log          text/plain, the log so far; with ?follow (or
 *                                                 follow=1|true) streamed until the run has ended
 *   POST /api/v1/pipelines/runs/{id}/rerun        202, the new queued RunRecord (Bearer token)
 *   POST /api/v1/pipelines/runs/{id}/cancel       200, the ended RunRecord; 409 AVIARY_RUN_WRONG_STATE
 *                                                 for a finished run (Bearer token)
 *   GET  /api/v1/artifacts                        every ArtifactEntry, each with `referenced`
 *   POST /api/v1/artifacts/gc                     200, the CollectionReport; referenced artifacts
 *                                                 are never removed (Bearer token)
 *
 * Errors are `{error: {code, message}}` with the code's status from the error catalogue.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AviaryError } from '../errors.js';
import type { PipelinesPort } from '../pipelines/pipelines-port.js';
import { readRunLog } from '../pipelines/runs/run-log.js';
import {
  compareRunIds,
  PIPELINES,
  RUN_STATES,
  type PipelineKind,
  type RunRecord,
  type RunState,
} from '../pipelines/runs/run-record.js';
import type { RunStore } from '../pipelines/runs/run-store.js';
import { RunError } from '../pipelines/runs/run-error.js';
import type { ExtraRoute } from './control-server.js';
import { requireToken, sendError, sendJson } from './http-json.js';

/** The filters `GET /api/v1/pipelines/runs` accepts. */
export interface RunFilter {
  readonly source?: string;
  readonly pipeline?: PipelineKind;
  readonly state?: RunState;
  /** At most this many runs, the newest. */
  readonly limit?: number;
}

const RUN_FILTERS = ['source', 'pipeline', 'state', 'limit'] as const;
/** A comment line the event stream sends this often, so proxies keep the connection open. */
const HEARTBEAT_MS = 15_000;

function badParameter(name: string, expected: string, got: string): AviaryError {
  return new AviaryError('AVIARY_BAD_REQUEST', `${name}: expected ${expected}, got ${JSON.stringify(got)}`);
}

function oneOf<T extends string>(name: string, known: readonly T[], value: string): T {
  const found = known.find((k) => k === value);
  if (found === undefined) throw badParameter(name, `one of ${known.join(', ')}`, value);
  return found;
}

/**
 * Reads the list's query; an unknown parameter or a bad value is an `AVIARY_BAD_REQUEST`
 * naming the parameter and what was expected.
 */
export function parseRunFilter(query: URLSearchParams): RunFilter {
  for (const name of query.keys())
    if (!(RUN_FILTERS as readonly string[]).includes(name))
      throw badParameter('query', `only ${RUN_FILTERS.join(', ')}`, name);
  const source = query.get('source');
  const pipeline = query.get('pipeline');
  const state = query.get('state');
  const limit = query.get('limit');
  if (source !== null && source === '') throw badParameter('source', 'a source name', source);
  if (limit !== null && !/^[1-9]\d{0,5}$/.test(limit))
    throw badParameter('limit', 'an integer from 1 to 999999', limit);
  return {
    ...(source === null ? {} : { source }),
    ...(pipeline === null ? {} : { pipeline: oneOf('pipeline', PIPELINES, pipeline) }),
    ...(state === null ? {} : { state: oneOf('state', RUN_STATES, state) }),
    ...(limit === null ? {} : { limit: Number(limit) }),
  };
}

/** The runs `filter` selects, newest first. */
export function selectRuns(runs: readonly RunRecord[], filter: RunFilter): RunRecord[] {
  const selected = runs
    .filter(
      (run) =>
        (filter.source === undefined || run.source === filter.source) &&
        (filter.pipeline === undefined || run.pipeline === filter.pipeline) &&
        (filter.state === undefined || run.state === filter.state),
    )
    .sort((a, b) => compareRunIds(b.id, a.id));
  return filter.limit === undefined ? selected : selected.slice(0, filter.limit);
}

/** `?follow`, `?follow=1` and `?follow=true` follow; `0`/`false` or no parameter do not. */
function wantsFollow(query: URLSearchParams): boolean {
  const value = query.get('follow');
  if (value === null || value === '0' || value === 'false') return false;
  if (value === '' || value === '1' || value === 'true') return true;
  throw badParameter('follow', 'no value, 1, true, 0 or false', value);
}

function storeOf(port: PipelinesPort): RunStore {
  if (port.runs === undefined)
    throw new RunError(
      'AVIARY_RUN_NOT_FOUND',
      'no runs: this Aviary has no pipelines block in its configuration',
    );
  return port.runs;
}

/** Streams run `id`'s log; with `follow` until the run has ended or the client has gone. */
async function sendLog(res: ServerResponse, store: RunStore, id: string, follow: boolean): Promise<void> {
  store.require(id);
  const gone = new AbortController();
  res.on('close', () => gone.abort());
  res.writeHead(200, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  // Headers now, so a follower knows the run exists before its first line is written.
  if (follow) res.flushHeaders();
  try {
    for await (const chunk of readRunLog(store, id, { follow, signal: gone.signal })) {
      if (gone.signal.aborted) break;
      if (!res.write(chunk))
        await new Promise<void>((resolve) => {
          const done = (): void => {
            res.off('drain', done);
            res.off('close', done);
            resolve();
          };
          res.on('drain', done);
          res.on('close', done);
        });
    }
  } catch (err) {
    // The status is sent: all that can be said now is that the body is cut short.
    res.destroy(err as Error);
    return;
  }
  res.end();
}

/** Server-Sent Events (https://html.spec.whatwg.org/multipage/server-sent-events.html) of every run change. */
function streamRuns(res: ServerResponse, store: RunStore | undefined): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  res.write('retry: 2000\n\n');
  const forward = (run: RunRecord): void => {
    res.write(`event: run\ndata: ${JSON.stringify(run)}\n\n`);
  };
  store?.on('run', forward);
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
  heartbeat.unref();
  res.on('close', () => {
    clearInterval(heartbeat);
    store?.off('run', forward);
  });
}

async function handleRuns(
  port: PipelinesPort,
  token: string,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  rest: readonly string[],
): Promise<void> {
  const method = req.method ?? 'GET';
  const [id, action, ...extra] = rest;
  if (id === undefined) {
    if (method !== 'GET') return sendError(res, 'AVIARY_METHOD', `use GET for ${url.pathname}`);
    const filter = parseRunFilter(url.searchParams);
    return sendJson(res, 200, selectRuns(port.runs?.list() ?? [], filter));
  }
  if (extra.length > 0) return sendError(res, 'AVIARY_NOT_FOUND', `no endpoint ${method} ${url.pathname}`);
  if (id === 'stream' && action === undefined) {
    if (method !== 'GET') return sendError(res, 'AVIARY_METHOD', `use GET for ${url.pathname}`);
    return streamRuns(res, port.runs);
  }
  if (action === undefined || action === 'log') {
    if (method !== 'GET') return sendError(res, 'AVIARY_METHOD', `use GET for ${url.pathname}`);
    const store = storeOf(port);
    if (action === undefined) return sendJson(res, 200, store.require(id));
    return sendLog(res, store, id, wantsFollow(url.searchParams));
  }
  if (action !== 'rerun' && action !== 'cancel')
    return sendError(res, 'AVIARY_NOT_FOUND', `no endpoint ${method} ${url.pathname}`);
  if (method !== 'POST') return sendError(res, 'AVIARY_METHOD', `use POST for ${url.pathname}`);
  if (!requireToken(req, res, token)) return;
  const queue = port.queue;
  storeOf(port);
  if (queue === undefined)
    throw new RunError('AVIARY_RUN_NOT_FOUND', `run ${id}: this Aviary has no run queue`);
  if (action === 'rerun') return sendJson(res, 202, await queue.rerun(id));
  return sendJson(res, 200, await queue.cancel(id));
}

async function handleArtifacts(
  port: PipelinesPort,
  token: string,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  rest: readonly string[],
): Promise<void> {
  const method = req.method ?? 'GET';
  if (rest.length === 0) {
    if (method !== 'GET') return sendError(res, 'AVIARY_METHOD', `use GET for ${url.pathname}`);
    const entries = port.artifacts.list().map((entry) => ({ ...entry, referenced: port.referenced(entry) }));
    return sendJson(res, 200, entries);
  }
  if (rest.length !== 1 || rest[0] !== 'gc')
    return sendError(res, 'AVIARY_NOT_FOUND', `no endpoint ${method} ${url.pathname}`);
  if (method !== 'POST') return sendError(res, 'AVIARY_METHOD', `use POST for ${url.pathname}`);
  if (!requireToken(req, res, token)) return;
  sendJson(res, 200, await port.artifacts.gc((entry) => port.referenced(entry)));
}

/**
 * The pipeline and artifact endpoints over `port`. Security: rerun, cancel and gc need
 * `token` (compared in constant time); reads are open, like the rest of the control API.
 * Run logs are served as written: the build runner masks secret values before it writes.
 */
export function pipelineRoutes(port: PipelinesPort, token: string): ExtraRoute {
  return async (req, res, url) => {
    const parts = url.pathname.split('/').filter((part) => part !== '');
    if (parts[0] !== 'api' || parts[1] !== 'v1') return false;
    const runs = parts[2] === 'pipelines' && parts[3] === 'runs';
    if (!runs && parts[2] !== 'artifacts') return false;
    try {
      const rest = parts.slice(runs ? 4 : 3).map(decodeURIComponent);
      if (runs) await handleRuns(port, token, req, res, url, rest);
      else await handleArtifacts(port, token, req, res, url, rest);
    } catch (err) {
      if (res.headersSent) res.destroy();
      else if (err instanceof AviaryError) sendError(res, err.code, err.message);
      else if (err instanceof URIError) sendError(res, 'AVIARY_BAD_REQUEST', `path: ${err.message}`);
      else sendError(res, 'AVIARY_INTERNAL', (err as Error).message);
    }
    return true;
  };
}
