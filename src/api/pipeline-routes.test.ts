// The pipeline routes on a real control API over loopback: a real RunStore and RunQueue in a
// temporary directory (the executor is a seam the test drives), a real ArtifactStore.
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendRunLog } from '../pipelines/runs/run-log.js';
import type { RunRecord } from '../pipelines/runs/run-record.js';
import {
  callApi,
  commitOf,
  PIPELINES_TOKEN,
  startPipelinesControlServer,
  type CallOptions,
  type PipelinesControlServer,
} from '../../test/support/pipelines-control-server.js';
import { readServerSentEvents } from '../cli/control-event-stream.js';

let server: PipelinesControlServer;

beforeEach(async () => {
  server = await startPipelinesControlServer();
});

afterEach(async () => {
  await server.close();
});

const auth = { authorization: `Bearer ${PIPELINES_TOKEN}` };

const call = (path: string, options?: CallOptions) => callApi(server.url, path, options);

/** Two finished build runs of `app` and a release run of `deploy` left running. */
async function someRuns(): Promise<{ built: RunRecord; failed: RunRecord; running: RunRecord }> {
  const built = await server.queue.enqueue({ pipeline: 'build', source: 'app', ref: 'refs/tags/v1.0.0' });
  (await server.nextHeld()).finish({ state: 'succeeded', commit: commitOf('1') });
  const failed = await server.queue.enqueue({ pipeline: 'build', source: 'app', ref: 'refs/tags/v2.0.0' });
  (await server.nextHeld()).finish({ state: 'failed', reason: 'step 1 exited with code 2' });
  await server.store.finished(failed.id);
  const running = await server.queue.enqueue({
    pipeline: 'release',
    source: 'deploy',
    ref: 'refs/heads/main',
  });
  await server.nextHeld();
  return { built, failed, running };
}

describe('GET /api/v1/pipelines/runs', () => {
  it('lists runs newest first and filters by source, pipeline, state and limit', async () => {
    const { built, failed, running } = await someRuns();
    const all = await call('/api/v1/pipelines/runs');
    expect(all.status).toBe(200);
    expect(all.body.map((run: RunRecord) => run.id)).toEqual([running.id, failed.id, built.id]);
    expect(all.body[2]).toMatchObject({ state: 'succeeded', commit: commitOf('1') });

    const ids = async (query: string) =>
      (await call(`/api/v1/pipelines/runs?${query}`)).body.map((run: RunRecord) => run.id);
    expect(await ids('source=app')).toEqual([failed.id, built.id]);
    expect(await ids('pipeline=release')).toEqual([running.id]);
    expect(await ids('state=failed')).toEqual([failed.id]);
    expect(await ids('source=app&limit=1')).toEqual([failed.id]);
    expect(await ids('source=nothing')).toEqual([]);
  });

  it('answers 400 naming the parameter and what it expected', async () => {
    const cases = [
      ['state=broken', 'state: expected one of queued, running, succeeded'],
      ['pipeline=deploy', 'pipeline: expected one of build, release, got "deploy"'],
      ['limit=0', 'limit: expected an integer from 1'],
      ['limit=ten', 'limit: expected an integer from 1'],
      ['stat=failed', 'query: expected only source, pipeline, state, limit, got "stat"'],
    ] as const;
    for (const [query, message] of cases) {
      const answer = await call(`/api/v1/pipelines/runs?${query}`);
      expect(answer.status, query).toBe(400);
      expect(answer.body.error.code).toBe('AVIARY_BAD_REQUEST');
      expect(answer.body.error.message).toContain(message);
    }
  });

  it('is [] and 404s for runs when no pipelines block is configured', async () => {
    const bare = await startPipelinesControlServer({ pipelinesBlock: false });
    try {
      const list = await request(new URL('/api/v1/pipelines/runs', bare.url));
      expect(list.statusCode).toBe(200);
      expect(await list.body.json()).toEqual([]);
      const one = await request(new URL('/api/v1/pipelines/runs/run-20261204T000000000Z-0000', bare.url));
      expect(one.statusCode).toBe(404);
      expect(await one.body.json()).toMatchObject({ error: { code: 'AVIARY_RUN_NOT_FOUND' } });
      const artifacts = await request(new URL('/api/v1/artifacts', bare.url));
      expect(await artifacts.body.json()).toHaveLength(2);
    } finally {
      await bare.close();
    }
  });
});

describe('GET /api/v1/pipelines/runs/{id}', () => {
  it('answers the run, and 404 AVIARY_RUN_NOT_FOUND for an unknown id', async () => {
    const { failed } = await someRuns();
    const found = await call(`/api/v1/pipelines/runs/${failed.id}`);
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ id: failed.id, state: 'failed', reason: 'step 1 exited with code 2' });
    for (const id of ['run-20200101T000000000Z-0000', 'not-a-run']) {
      const missing = await call(`/api/v1/pipelines/runs/${id}`);
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('AVIARY_RUN_NOT_FOUND');
    }
  });
});

describe('GET /api/v1/pipelines/runs/{id}/log', () => {
  it('answers the log so far as text/plain', async () => {
    const { failed } = await someRuns();
    const log = await call(`/api/v1/pipelines/runs/${failed.id}/log`);
    expect(log.status).toBe(200);
    expect(log.type).toBe('text/plain; charset=utf-8');
    expect(log.body).toContain(`[test] ${failed.id} started`);
    expect(log.body).toContain('[run] failed: step 1 exited with code 2');
    expect((await call('/api/v1/pipelines/runs/run-20200101T000000000Z-0000/log')).status).toBe(404);
  });

  it('with ?follow streams lines written later and ends when the run ends', async () => {
    const run = await server.queue.enqueue({ pipeline: 'build', source: 'app', ref: 'refs/tags/v3.0.0' });
    const held = await server.nextHeld();
    const res = await request(new URL(`/api/v1/pipelines/runs/${run.id}/log?follow`, server.url));
    expect(res.statusCode).toBe(200);
    const chunks = res.body.setEncoding('utf8')[Symbol.asyncIterator]();
    let text = '';
    const readUntil = async (needle: string): Promise<void> => {
      while (!text.includes(needle)) {
        const next = await chunks.next();
        if (next.done === true) throw new Error(`the log ended before "${needle}": ${text}`);
        text += String(next.value);
      }
    };
    await readUntil(`[test] ${run.id} started`);
    await appendRunLog(server.store, run.id, 'step 1: npm ci');
    await readUntil('step 1: npm ci');
    held.finish({ state: 'succeeded' });
    for (let next = await chunks.next(); next.done !== true; next = await chunks.next())
      text += String(next.value);
    expect(text).toMatch(/step 1: npm ci\n\[run\] succeeded\n$/);
  });

  it('stops following when the client goes away', async () => {
    const run = await server.queue.enqueue({ pipeline: 'build', source: 'app', ref: 'refs/tags/v3.0.0' });
    const held = await server.nextHeld();
    const before = server.store.listenerCount('run');
    const client = new AbortController();
    const res = await request(new URL(`/api/v1/pipelines/runs/${run.id}/log?follow=true`, server.url), {
      signal: client.signal,
    });
    const chunks = res.body[Symbol.asyncIterator]();
    await chunks.next();
    // The follower listens for the run's changes while it follows.
    expect(server.store.listenerCount('run')).toBeGreaterThan(before);
    client.abort();
    await expect(chunks.next()).rejects.toThrow();
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (server.store.listenerCount('run') === before) resolve();
        else setImmediate(check);
      };
      check();
    });
    expect(server.store.listenerCount('run')).toBe(before);
    held.finish({ state: 'succeeded' });
  });
});

describe('POST rerun and cancel', () => {
  it('need the token', async () => {
    const { failed, running } = await someRuns();
    for (const [path, headers] of [
      [`/api/v1/pipelines/runs/${failed.id}/rerun`, {}],
      [`/api/v1/pipelines/runs/${running.id}/cancel`, { authorization: 'Bearer wrong' }],
    ] as const) {
      const answer = await call(path, { method: 'POST', headers });
      expect(answer.status).toBe(401);
      expect(answer.body.error.code).toBe('AVIARY_UNAUTHORIZED');
    }
    expect(server.store.list()).toHaveLength(3);
    expect(server.store.require(running.id).state).toBe('running');
  });

  it('rerun answers 202 with a new queued run of the same inputs', async () => {
    const { failed } = await someRuns();
    const answer = await call(`/api/v1/pipelines/runs/${failed.id}/rerun`, { method: 'POST', headers: auth });
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({ rerunOf: failed.id, source: 'app', ref: 'refs/tags/v2.0.0' });
    expect(answer.body.id).not.toBe(failed.id);
    expect(server.store.get(answer.body.id)).toBeDefined();
  });

  it('cancel ends a running run, and answers 409 for a finished one', async () => {
    const { built, running } = await someRuns();
    const answer = await call(`/api/v1/pipelines/runs/${running.id}/cancel`, {
      method: 'POST',
      headers: auth,
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ id: running.id, state: 'failed', reason: 'cancelled' });
    const finished = await call(`/api/v1/pipelines/runs/${built.id}/cancel`, {
      method: 'POST',
      headers: auth,
    });
    expect(finished.status).toBe(409);
    expect(finished.body.error.code).toBe('AVIARY_RUN_WRONG_STATE');
    const unknown = await call('/api/v1/pipelines/runs/run-20200101T000000000Z-0000/rerun', {
      method: 'POST',
      headers: auth,
    });
    expect(unknown.status).toBe(404);
  });

  it('answers 405 for the wrong method', async () => {
    const { built } = await someRuns();
    const answer = await call(`/api/v1/pipelines/runs/${built.id}/cancel`);
    expect(answer.status).toBe(405);
    expect(answer.body.error.code).toBe('AVIARY_METHOD');
  });
});

describe('GET /api/v1/pipelines/runs/stream', () => {
  it('sends each run change as event: run, and lets go of the store when closed', async () => {
    const before = server.store.listenerCount('run');
    const client = new AbortController();
    const res = await request(new URL('/api/v1/pipelines/runs/stream', server.url), {
      signal: client.signal,
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    const events = readServerSentEvents(res.body);
    const queued = await server.queue.enqueue({ pipeline: 'build', source: 'app', ref: 'refs/tags/v4.0.0' });
    const first = await events.next();
    expect(first.done).toBe(false);
    expect(first.value).toMatchObject({ event: 'run' });
    expect(JSON.parse(first.done === false ? first.value.data : '{}')).toMatchObject({
      id: queued.id,
      state: 'queued',
    });
    client.abort();
    await events.next().catch(() => undefined);
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (server.store.listenerCount('run') <= before) resolve();
        else setImmediate(check);
      };
      check();
    });
    expect(server.store.listenerCount('run')).toBe(before);
    (await server.nextHeld()).finish({ state: 'succeeded' });
  });
});
