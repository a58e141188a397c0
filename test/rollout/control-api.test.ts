/**
 * The control API of the embedded runtime over real HTTP: reads are open, mutations need the
 * token, an unknown app is a 404 naming the known ones, every operator action becomes an
 * event with a time and a reason and is streamed over SSE, the controller's gauges are on
 * /metrics, and the rollout's state file is replaced atomically while it changes.
 */
import { get, type IncomingMessage } from 'node:http';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RolloutEventRecord } from '../../src/rollout/controller/action-executor.js';
import type { PersistedRollout } from '../../src/rollout/controller/app-record.js';
import { StateJournal } from '../../src/rollout/state/state-journal.js';
import {
  catalogProcess,
  onCleanup,
  startTestRuntime,
  TOKEN,
  TrafficLoop,
  waitFor,
  type CanaryInput,
  type TestRuntime,
  TEST_TIMEOUT_MS,
} from './support.js';

const CANARY: CanaryInput = {
  progressDeadlineSeconds: 60,
  analysis: { interval: '1s', threshold: 2, stepWeight: 10, maxWeight: 50 },
};

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

async function call(
  test: TestRuntime,
  method: 'GET' | 'POST',
  path: string,
  options: { token?: string; user?: string; body?: unknown } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (options.user !== undefined) headers['x-aviary-user'] = options.user;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${test.runtime.controlUrl}${path}`, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  const type = response.headers.get('content-type') ?? '';
  return {
    status: response.status,
    headers: response.headers,
    body: type.startsWith('application/json') ? JSON.parse(text) : text,
  };
}

/** Sends an authorised command and waits for the state machine's event answering it. */
async function command(
  test: TestRuntime,
  action: string,
  answer: string,
  body?: unknown,
): Promise<RolloutEventRecord> {
  const before = test.events(answer).length;
  const accepted = await call(test, 'POST', `/api/v1/rollouts/catalogdetail/${action}`, {
    token: TOKEN,
    user: 'alice',
    ...(body !== undefined ? { body } : {}),
  });
  expect(accepted.status).toBe(202);
  return waitFor(`${answer} after ${action}`, () => test.events(answer)[before]);
}

/** Frames of the SSE stream, as `{event, data}`. */
function openEventStream(url: string): { frames: { event: string; data: any }[] } {
  const frames: { event: string; data: any }[] = [];
  let buffer = '';
  const request = get(url, (res: IncomingMessage) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event !== undefined && data !== undefined) frames.push({ event, data: JSON.parse(data) });
      }
    });
  });
  request.on('error', () => undefined);
  onCleanup(() => void request.destroy());
  return { frames };
}

describe('control API', { timeout: TEST_TIMEOUT_MS }, () => {
  it('is open for reads, needs the token for mutations, and names the known apps on a 404', async () => {
    const test = await startTestRuntime(catalogProcess('1'), CANARY);
    await test.waitForPhase('Initialized');

    expect((await call(test, 'GET', '/healthz')).body).toEqual({ status: 'ok' });
    const list = await call(test, 'GET', '/api/v1/rollouts');
    expect(list.body).toMatchObject([
      { app: 'catalogdetail', status: { phase: 'Initialized', canaryWeight: 0 } },
    ]);
    const one = await call(test, 'GET', '/api/v1/rollouts/catalogdetail');
    expect(one.body).toMatchObject({
      app: 'catalogdetail',
      status: { phase: 'Initialized' },
      processes: { primary: { readyReplicas: 1 }, canary: null },
      routes: { weights: { primary: 100 } },
    });

    const unknown = await call(test, 'GET', '/api/v1/rollouts/checkout');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toEqual({
      code: 'AVIARY_NOT_FOUND',
      message: 'rollout checkout does not exist; known apps: catalogdetail',
    });
    expect((await call(test, 'POST', '/api/v1/rollouts/checkout/pause', { token: TOKEN })).status).toBe(404);

    const events = test.events().length;
    for (const action of ['pause', 'resume', 'promote', 'abort', 'weights', 'gates/confirm-promotion/open']) {
      const anonymous = await call(test, 'POST', `/api/v1/rollouts/catalogdetail/${action}`);
      expect(anonymous.status, action).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toBe('Bearer realm="aviary"');
      expect(anonymous.body.error.code).toBe('AVIARY_UNAUTHORIZED');
      const wrong = await call(test, 'POST', `/api/v1/rollouts/catalogdetail/${action}`, { token: 'guess' });
      expect(wrong.status, action).toBe(401);
    }
    const badWeight = await call(test, 'POST', '/api/v1/rollouts/catalogdetail/weights', {
      token: TOKEN,
      body: { canaryWeight: 150 },
    });
    expect(badWeight.status).toBe(400);
    expect(badWeight.body.error.message).toBe('canaryWeight: expected a number from 0 to 100, got 150');
    const badGate = await call(test, 'POST', '/api/v1/rollouts/catalogdetail/gates/deploy/open', {
      token: TOKEN,
    });
    expect(badGate.status).toBe(400);
    expect(badGate.body.error.message).toMatch(/^gate "deploy": expected one of confirm-rollout/);
    expect((await call(test, 'GET', '/api/v1/rollouts/catalogdetail/pause')).status).toBe(405);
    // Refused calls change nothing and record nothing.
    expect(test.events().length).toBe(events);
    expect(test.phase()).toBe('Initialized');
  });

  it('turns every operator action into an event with a time and a reason, streamed over SSE', async () => {
    const test = await startTestRuntime(catalogProcess('1'), CANARY);
    await test.waitForPhase('Initialized');
    const stream = openEventStream(`${test.runtime.controlUrl}/api/v1/events/stream`);
    await waitFor('the initial status frame', () =>
      stream.frames.some((f) => f.event === 'status' && f.data.app === 'catalogdetail') ? true : undefined,
    );
    const traffic = TrafficLoop.start(test.runtime.routerUrl);
    const stateDir = join(test.stateDir, 'rollouts');
    const journal = new StateJournal<PersistedRollout, RolloutEventRecord>(stateDir);
    // Read the saved state over and over while the rollout writes it: it always reads whole.
    let reads = 0;
    const failures: string[] = [];
    let reading = true;
    const reader = (async () => {
      while (reading) {
        await journal.load('catalogdetail').catch((err: Error) => failures.push(err.message));
        reads++;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    onCleanup(async () => {
      reading = false;
      await reader;
    });

    test.deploy(catalogProcess('2'));
    await test.waitForPhase('Progressing');
    const paused = await command(test, 'pause', 'Paused');
    expect(paused.message).toBe('Rollout of catalogdetail paused by operator in phase Progressing');
    expect(test.runtime.controller.view('catalogdetail').status?.paused).toBe(true);
    await waitFor('the Paused event on the stream', () =>
      stream.frames.some((f) => f.event === 'event' && f.data.reason === 'Paused') ? true : undefined,
    );

    const weights = await command(test, 'weights', 'WeightsSet', { canaryWeight: 30 });
    expect(weights).toMatchObject({
      canaryWeight: 30,
      message: 'Canary weight of catalogdetail set to 30 by operator',
    });
    // The router follows once the canary is ready (a role without ready endpoints gets no share).
    await waitFor('the router at 70/30', async () => {
      const { body } = await call(test, 'GET', '/api/v1/rollouts/catalogdetail');
      return body.routes.weights.primary === 70 && body.routes.weights.canary === 30 ? true : undefined;
    });
    await waitFor('the weight gauge at 30', async () => {
      const metrics = (await call(test, 'GET', '/metrics')).body as string;
      return metrics.includes('aviary_rollout_canary_weight{app="catalogdetail"} 30') ? true : undefined;
    });
    // The controller process's event-loop delay (src/api/event-loop-delay.ts).
    expect((await call(test, 'GET', '/metrics')).body).toMatch(
      /^aviary_controller_event_loop_delay_seconds\{quantile="0\.99"\} \d/m,
    );

    await command(test, 'resume', 'Resumed');
    await command(test, 'promote', 'OperatorPromoted');
    await test.waitForPhase('Succeeded');
    expect(test.events('Succeeded')).toHaveLength(1);

    test.deploy(catalogProcess('3'));
    await waitFor('the second rollout', () => (test.events('NewRevision').length === 2 ? true : undefined));
    await test.waitForPhase('Progressing');
    const aborted = await command(test, 'abort', 'OperatorAborted', { reason: 'manual test' });
    expect(aborted.message).toBe('Rolling back catalogdetail: aborted by operator (manual test)');
    await test.waitForPhase('Failed');

    const received = test.events('CommandReceived').map((e) => e.message);
    expect(received).toEqual(
      ['pause', 'set-weights', 'resume', 'promote', 'abort'].map((kind) => `${kind} requested by alice`),
    );
    for (const event of test.events()) {
      expect(event.at).toBeGreaterThan(0);
      expect(event.reason).toMatch(/^[A-Z][A-Za-z]+$/);
    }
    const streamed = stream.frames.filter((f) => f.event === 'event').map((f) => f.data.reason);
    expect(streamed).toEqual(
      expect.arrayContaining(['CommandReceived', 'Paused', 'WeightsSet', 'OperatorAborted']),
    );

    const since = aborted.at - 1;
    const recent = await call(test, 'GET', `/api/v1/rollouts/catalogdetail/events?since=${since}`);
    expect((recent.body as RolloutEventRecord[]).every((e) => e.at > since)).toBe(true);
    expect((recent.body as RolloutEventRecord[]).map((e) => e.reason)).toContain('OperatorAborted');
    const all = await call(test, 'GET', '/api/v1/events');
    expect((all.body as RolloutEventRecord[]).length).toBe(test.events().length);

    // Enough reads to have crossed many writes; on a loaded machine they take longer, not fewer.
    await waitFor('50 reads of the saved state', () => (reads >= 50 ? true : undefined));
    reading = false;
    await reader;
    expect(failures).toEqual([]);
    const saved = await journal.load('catalogdetail');
    expect(saved?.state).toMatchObject({ status: { phase: 'Failed', canaryRevision: null } });
    expect(saved?.events.map((e) => e.reason)).toContain('OperatorAborted');
    const journals = (await readdir(stateDir)).filter((f) => /^journal\.\d+\.jsonl$/.test(f));
    expect(journals.length).toBeGreaterThan(0);
    for (const file of journals) expect((await stat(join(stateDir, file))).mode & 0o777).toBe(0o600);
    expect((await readdir(stateDir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await traffic.stop();
  });
});
