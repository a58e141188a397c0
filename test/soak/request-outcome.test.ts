/**
 * Whose fault a failed soak request is (soak/request-outcome.ts), on answers the proxy and
 * the demo apps really give: catalogdetail's bodies as it writes them, the proxy's failure
 * texts as src/proxy/upstream-failure.ts writes them, and the pages of the real frontend
 * (demo/apps/frontend.js, run as a process) in front of a loopback stub of the router.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/cli/demo-ports.js';
import { FAILURE_STATUS, FAILURE_TEXT } from '../../src/proxy/upstream-failure.js';
import { catalogOutcome, frontendOutcome, type Answer } from '../../soak/request-outcome.js';
import { pollUntil } from '../support/poll.js';

const FRONTEND = fileURLToPath(new URL('../../demo/apps/frontend.js', import.meta.url));
const faulty = (version: string): boolean => version === '3';
const json = (status: number, body: unknown): Answer => ({
  status,
  contentType: 'application/json',
  body: JSON.stringify(body),
});
const proxyAnswer = (kind: keyof typeof FAILURE_TEXT): Answer => ({
  status: FAILURE_STATUS[kind],
  contentType: 'text/plain; charset=utf-8',
  body: `${FAILURE_TEXT[kind]} catalogdetail/canary\n`,
});

describe('catalogOutcome', () => {
  it("counts a faulty release's own 500 as the app's, and nothing else", () => {
    expect(catalogOutcome(json(200, { version: '2', vendors: [] }), faulty)).toEqual({ kind: 'ok' });
    expect(catalogOutcome(json(500, { error: 'internal error', version: '3' }), faulty)).toEqual({
      kind: 'app',
    });
    // A good release never answers 500: if one does, the soak cannot explain it, so it is Aviary's.
    expect(catalogOutcome(json(500, { error: 'internal error', version: '2' }), faulty)).toEqual({
      kind: 'aviary',
      reason: 'unexplained: 500',
    });
  });

  it("counts the proxy's own answers and connection errors as Aviary's, by kind", () => {
    for (const kind of ['connect', 'reset', 'timeout', 'no-endpoint'] as const)
      expect(catalogOutcome(proxyAnswer(kind), faulty)).toEqual({ kind: 'aviary', reason: `proxy: ${kind}` });
    const noRoute = { status: 404, contentType: 'text/plain; charset=utf-8', body: 'no route: path /x\n' };
    expect(catalogOutcome(noRoute, faulty)).toEqual({ kind: 'aviary', reason: 'proxy: no-route' });
    expect(catalogOutcome({ error: 'ECONNRESET' }, faulty)).toEqual({
      kind: 'aviary',
      reason: 'client: ECONNRESET',
    });
    expect(catalogOutcome({ status: 200, contentType: 'text/html', body: '<p>' }, faulty)).toEqual({
      kind: 'aviary',
      reason: 'unexplained: 200',
    });
  });
});

describe('frontendOutcome, on the real frontend page', () => {
  let stub: Server;
  let frontend: ChildProcess;
  let frontendUrl = '';
  /** What the stub router answers the frontend's call to catalogdetail. */
  let next: (res: ServerResponse) => void = () => undefined;

  beforeAll(async () => {
    stub = createServer((_req, res) => next(res));
    await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
    const stubPort = (stub.address() as AddressInfo).port;
    const port = await freePort();
    frontend = spawn(process.execPath, [FRONTEND], {
      env: { ...process.env, PORT: String(port), BASE_URL: `http://127.0.0.1:${stubPort}/catalogDetail/` },
      stdio: 'ignore',
    });
    frontendUrl = `http://127.0.0.1:${port}/`;
    await pollUntil(async () =>
      (await fetch(`${frontendUrl}ping`).catch(() => undefined))?.ok ? true : undefined,
    );
  });

  afterAll(async () => {
    frontend.kill('SIGKILL');
    await new Promise<void>((resolve) => stub.close(() => resolve()));
  });

  async function pageWhen(answer: (res: ServerResponse) => void): Promise<Answer> {
    next = answer;
    const res = await fetch(frontendUrl);
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', body: await res.text() };
  }

  it('reads ok, app and Aviary failures off the page the frontend renders', async () => {
    const send = (status: number, type: string, body: string) => (res: ServerResponse) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    expect(
      frontendOutcome(await pageWhen(send(200, 'application/json', '{"version":"2","vendors":["A"]}'))),
    ).toEqual({
      kind: 'ok',
    });
    const appError = send(500, 'application/json', '{"error":"internal error","version":"3"}');
    expect(frontendOutcome(await pageWhen(appError))).toEqual({ kind: 'app' });
    const proxy = proxyAnswer('no-endpoint') as { status: number; body: string };
    expect(frontendOutcome(await pageWhen(send(proxy.status, 'text/plain', proxy.body)))).toEqual({
      kind: 'aviary',
      reason: 'frontend: proxy no-endpoint',
    });
    // The router hangs up without an answer: the frontend's call fails with status 0.
    expect(frontendOutcome(await pageWhen((res) => res.socket?.destroy()))).toEqual({
      kind: 'aviary',
      reason: 'frontend to router: socket hang up',
    });
    expect(frontendOutcome({ error: 'UND_ERR_HEADERS_TIMEOUT' })).toEqual({
      kind: 'aviary',
      reason: 'client: UND_ERR_HEADERS_TIMEOUT',
    });
  });
});
