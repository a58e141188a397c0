/**
 * Regressions found by http-front-ends.fuzz.test.ts, each with the input that found it, on
 * real loopback servers.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listenJson, requestTarget, sendJson } from '../../src/api/http-json.js';
import { releaseRoutes, type ReleaseApplier } from '../../src/api/release-routes.js';
import { startTestReceiver } from '../../src/pipelines/webhook/test-support.js';
import { parseRawAnswer, rawExchange } from '../proxy/raw-http.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const noReleases: ReleaseApplier = {
  apps: () => [],
  view: (app) => Promise.resolve({ app }),
  events: () => [],
  apply: () => Promise.resolve({}),
};

describe('a malformed percent-encoding in the path', () => {
  it('gets 400 AVIARY_BAD_REQUEST from a JSON API, not 500 (GET /%zz)', async () => {
    const { server, port } = await listenJson(async (req: IncomingMessage, res: ServerResponse) => {
      const { parts } = requestTarget(req, 'http://api');
      sendJson(res, 200, { parts });
      return Promise.resolve();
    }, 0);
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    const raw = await rawExchange(port, 'GET /%zz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    const answer = parseRawAnswer(raw);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'AVIARY_BAD_REQUEST' } });
  });

  it('gets 400 from the release routes (GET /api/v1/apps/%E0%A4%A/release)', async () => {
    const route = releaseRoutes(noReleases, 'token');
    const server = createServer((req, res) => {
      void route(req, res, new URL(req.url ?? '/', 'http://api'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    const raw = await rawExchange(
      port,
      'GET /api/v1/apps/%E0%A4%A/release HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    );
    const answer = parseRawAnswer(raw);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'AVIARY_BAD_REQUEST' } });
  });
});

describe('the request target //', () => {
  it('is a path to a JSON API, not a URL it fails to resolve with 500', async () => {
    const { server, port } = await listenJson(async (req: IncomingMessage, res: ServerResponse) => {
      const { url, parts } = requestTarget(req, 'http://api');
      sendJson(res, 200, { path: url.pathname, parts });
      return Promise.resolve();
    }, 0);
    closers.push(() => new Promise((resolve) => server.close(() => resolve())));
    const answer = parseRawAnswer(
      await rawExchange(port, 'GET // HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'),
    );
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ path: '//', parts: [] });
  });

  it('gets 404 from the webhook receiver, not 500', async () => {
    const receiver = await startTestReceiver();
    closers.push(() => receiver.dispose());
    const answer = parseRawAnswer(
      await rawExchange(
        Number(new URL(receiver.url).port),
        'PUT // HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
      ),
    );
    expect(answer.status).toBe(404);
    expect(receiver.errors).toEqual([]);
  });
});
