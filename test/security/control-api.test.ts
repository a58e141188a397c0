/**
 * Tokens and origins on the control API (docs/security.md): every mutating route, the
 * pipeline, artifact and release ones included, answers 401 without the token or with a
 * wrong one, and 403 when a page of another origin sends it even with the right token; the
 * token never comes back in an answer, an event, the dashboard or the log lines. A real
 * runtime (embedded router, one process app, control API on port 0) started in this process.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { parseAviaryConfig } from '../../src/config/app-schema.js';
import { startRuntime, type Runtime } from '../../src/runtime.js';
import { DASHBOARD_ASSETS } from '../../src/web/static-assets.js';
import { HTTP_APP } from '../fixtures/apps/http-app-spec.js';
import { pollUntil } from '../support/poll.js';

const TOKEN = 'sEcReT-control-token-7f3a9c';
const APP = 'shop';

/** Every mutating route of the control API: method and path. */
const MUTATIONS: readonly (readonly [string, string])[] = [
  ['POST', `/api/v1/rollouts/${APP}/promote`],
  ['POST', `/api/v1/rollouts/${APP}/abort`],
  ['POST', `/api/v1/rollouts/${APP}/pause`],
  ['POST', `/api/v1/rollouts/${APP}/resume`],
  ['POST', `/api/v1/rollouts/${APP}/weights`],
  ['POST', `/api/v1/rollouts/${APP}/gates/confirm-promotion/open`],
  ['POST', `/api/v1/rollouts/${APP}/gates/confirm-promotion/close`],
  ['POST', `/api/v1/apps/${APP}/release`],
  ['POST', '/api/v1/pipelines/runs/00000001/rerun'],
  ['POST', '/api/v1/pipelines/runs/00000001/cancel'],
  ['POST', '/api/v1/artifacts/gc'],
];

/** Authorization headers that are not the token. */
const WRONG_CREDENTIALS: readonly (readonly [string, string | undefined])[] = [
  ['no header', undefined],
  ['a wrong token', 'Bearer wrong-token'],
  ['an empty bearer', 'Bearer '],
  ['the token as Basic', `Basic ${TOKEN}`],
  ['a prefix of the token', `Bearer ${TOKEN.slice(0, -1)}`],
  ['the token with a suffix', `Bearer ${TOKEN}x`],
  ['the token without the scheme', TOKEN],
];

let stateDir: string;
let runtime: Runtime | undefined;
let api: string;
/** Every answer text (status line, headers, body) this file received. */
const answers: string[] = [];
const consoleSpies: MockInstance[] = [];

async function call(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body = '{"canaryWeight": 10}',
): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(`${api}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
  });
  const text = await response.text();
  answers.push(`${response.status} ${JSON.stringify([...response.headers])} ${text}`);
  return { status: response.status, text, headers: response.headers };
}

beforeAll(async () => {
  for (const method of ['log', 'info', 'warn', 'error'] as const)
    consoleSpies.push(vi.spyOn(console, method));
  stateDir = await mkdtemp(join(tmpdir(), 'aviary-security-api-'));
  const parsed = parseAviaryConfig({
    apiVersion: 'aviary.dev/v1alpha1',
    kind: 'Aviary',
    router: { port: 0 },
    api: { port: 0 },
    stateDir,
    minAnalysisInterval: '100ms',
    apps: [
      {
        name: APP,
        path: `/${APP}`,
        process: {
          command: process.execPath,
          args: [HTTP_APP],
          readinessProbe: { httpGet: { path: '/ping' }, interval: '50ms' },
        },
        canary: { analysis: { interval: '1s', threshold: 2, maxWeight: 50, stepWeight: 20 } },
      },
    ],
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  runtime = await startRuntime(parsed.value, { token: TOKEN, drainMs: 0 });
  api = runtime.controlUrl;
  await pollUntil(() => (runtime?.controller.view(APP).status?.phase === 'Initialized' ? true : undefined));
}, 120_000);

afterAll(async () => {
  await runtime?.close();
  await rm(stateDir, { recursive: true, force: true });
  for (const spy of consoleSpies) spy.mockRestore();
});

describe('mutating routes need the token', () => {
  const cases = MUTATIONS.flatMap(([method, path]) =>
    WRONG_CREDENTIALS.map(([label, authorization]) => ({ method, path, label, authorization })),
  );

  it.each(cases)('$method $path with $label: 401', async ({ method, path, authorization }) => {
    const answer = await call(method, path, authorization === undefined ? {} : { authorization });
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'AVIARY_UNAUTHORIZED' } });
    expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="aviary"');
  });

  it.each(MUTATIONS)('%s %s with the token is not refused for want of it', async (method, path) => {
    const answer = await call(method, path, { authorization: `Bearer ${TOKEN}` });
    expect([401, 403]).not.toContain(answer.status);
  });
});

describe('a page of another origin cannot drive the API, even with the token', () => {
  it.each(MUTATIONS)('%s %s with Origin: https://evil.example: 403', async (method, path) => {
    const answer = await call(method, path, {
      authorization: `Bearer ${TOKEN}`,
      origin: 'https://evil.example',
    });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'AVIARY_CROSS_ORIGIN' } });
  });

  it('a refused gate stays closed; the same call from the API origin opens it', async () => {
    const path = `/api/v1/rollouts/${APP}/gates/confirm-rollout/open`;
    // Opening a gate is an event with its actor and reason; a refused call leaves none.
    const gates = async (): Promise<unknown> =>
      JSON.stringify(await (await fetch(`${api}/api/v1/rollouts/${APP}/events`)).json());
    const before = await gates();
    for (const headers of [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: `http://evil.example:${new URL(api).port}` },
    ]) {
      const answer = await call('POST', path, { authorization: `Bearer ${TOKEN}`, ...headers });
      expect(answer.status, JSON.stringify(headers)).toBe(403);
    }
    expect(await gates()).toEqual(before);
    const own = await call('POST', path, {
      authorization: `Bearer ${TOKEN}`,
      origin: new URL(api).origin,
      'sec-fetch-site': 'same-origin',
    });
    expect(own.status).toBe(200);
    expect(JSON.parse(own.text)).toMatchObject({ gate: 'confirm-rollout', open: true });
    // The events show gate changes: the refused calls above would have shown too.
    expect(await gates()).not.toEqual(before);
  });

  it('reads carry no CORS header, so another origin cannot read them either', async () => {
    const answer = await call('GET', '/api/v1/rollouts', { origin: 'https://evil.example' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
  });
});

/** A GET with a chosen Host header (fetch does not let one set it). */
function getWithHost(path: string, host: string): Promise<{ status: number; text: string }> {
  const { port } = new URL(api);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        answers.push(`${res.statusCode} ${JSON.stringify(res.headers)} ${text}`);
        resolve({ status: res.statusCode ?? 0, text });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('a DNS-rebinding page cannot read the API bound to loopback', () => {
  it.each(['/api/v1/rollouts', '/api/v1/events', '/metrics', '/'])(
    'GET %s under Host: evil.example: 403 AVIARY_HOST_REFUSED',
    async (path) => {
      const port = new URL(api).port;
      for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.evil.example:${port}`]) {
        const answer = await getWithHost(path, host);
        expect(answer.status, host).toBe(403);
        expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'AVIARY_HOST_REFUSED' } });
      }
    },
  );

  it.each(['127.0.0.1', 'localhost', '[::1]', 'app.localhost'])('answers under Host: %s', async (name) => {
    const answer = await getWithHost('/api/v1/rollouts', `${name}:${new URL(api).port}`);
    expect(answer.status).toBe(200);
  });
});

describe('the token is never shown', () => {
  it('not in answers, events, metrics, the dashboard or the log lines', async () => {
    for (const path of ['/api/v1/rollouts', `/api/v1/rollouts/${APP}`, '/api/v1/events', '/metrics'])
      expect((await call('GET', path)).status).toBe(200);
    for (const name of Object.keys(DASHBOARD_ASSETS))
      expect((await call('GET', `/dashboard/assets/${name}`)).status).toBe(200);
    expect((await call('GET', '/')).status).toBe(200);
    // The token file is in the state directory; no path reaches it.
    for (const path of ['/dashboard/assets/../token', '/dashboard/assets/%2e%2e/token', '/token'])
      expect((await call('GET', path)).status).toBe(404);
    const events = await call('GET', '/api/v1/events');
    expect(events.text).toContain('"app"');
    expect(answers.length).toBeGreaterThan(MUTATIONS.length * WRONG_CREDENTIALS.length);
    const logged = consoleSpies.flatMap((spy) => spy.mock.calls.map((args) => JSON.stringify(args)));
    for (const text of [...answers, ...logged]) expect(text).not.toContain(TOKEN);
  });
});
