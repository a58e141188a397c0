/**
 * What a route changes on the way through: the prefix rewrite (App Mesh gateway routes),
 * request and response header operations, and the X-Forwarded-* / x-request-id headers the
 * backend receives.
 */
import { describe, expect, it } from 'vitest';
import type { BackendHandler, RouteInput } from './support.js';
import { routeConfig, send, useFixtures } from './support.js';

const fx = useFixtures();

/** A one-version router in front of a recording backend. */
async function oneRoute(route: Partial<RouteInput>, handler?: BackendHandler) {
  const backend = await fx.backend('v1', handler);
  const { origin } = await fx.proxy(
    routeConfig({ v1: [backend.address] }, { targets: [{ version: 'v1', weight: 1 }], ...route }),
  );
  return { backend, origin };
}

/** Every value of a header, whether the client library joined repeats or kept an array. */
function values(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  return (Array.isArray(header) ? header : [header]).flatMap((v) => v.split(',').map((s) => s.trim()));
}

describe('prefix rewrite', () => {
  it.each([
    { match: '/api', rewrite: '/', request: '/api/items?x=1', upstream: '/items?x=1' },
    { match: '/api', rewrite: '/', request: '/api', upstream: '/' },
    { match: '/api/', rewrite: '/', request: '/api/items', upstream: '/items' },
    { match: '/api', rewrite: '/v2', request: '/api/items', upstream: '/v2/items' },
    // The "//" edge: a replacement ending in "/" and a remainder starting with "/".
    { match: '/api', rewrite: '/v2/', request: '/api/items', upstream: '/v2/items' },
    { match: '/api/', rewrite: '/v2', request: '/api/items', upstream: '/v2/items' },
    { match: '/', rewrite: '/base', request: '/x/y', upstream: '/base/x/y' },
  ])(
    '$match → $rewrite sends $request upstream as $upstream',
    async ({ match, rewrite, request, upstream }) => {
      const { backend, origin } = await oneRoute({
        match: { path: { prefix: match } },
        rewrite: { prefix: rewrite },
      });
      expect((await send(`${origin}${request}`)).status).toBe(200);
      expect(backend.seen.map((r) => r.url)).toEqual([upstream]);
    },
  );
});

describe('header operations', () => {
  it('sets, adds and removes request headers before the backend', async () => {
    const { backend, origin } = await oneRoute({
      requestHeaders: { set: { 'X-Env': 'canary' }, add: { 'x-tag': 'two' }, remove: ['X-Drop'] },
    });
    await send(`${origin}/`, {
      headers: { 'x-env': 'prod', 'x-tag': 'one', 'x-drop': 'secret', 'x-keep': 'yes' },
    });
    const headers = backend.seen[0]!.headers;
    expect(headers['x-env']).toBe('canary');
    expect(values(headers['x-tag'])).toEqual(['one', 'two']);
    expect(headers['x-drop']).toBeUndefined();
    expect(headers['x-keep']).toBe('yes');
  });

  it('sets, adds and removes response headers before the client', async () => {
    const { origin } = await oneRoute(
      { responseHeaders: { set: { 'x-server': 'aviary' }, add: { 'x-tag': 'two' }, remove: ['x-internal'] } },
      (_req, res) => {
        res.writeHead(200, { 'x-server': 'real', 'x-tag': 'one', 'x-internal': 'secret', 'x-keep': 'yes' });
        res.end('ok');
      },
    );
    const answer = await send(`${origin}/`);
    expect(answer.text).toBe('ok');
    expect(answer.headers['x-server']).toBe('aviary');
    expect(values(answer.headers['x-tag'])).toEqual(['one', 'two']);
    expect(answer.headers['x-internal']).toBeUndefined();
    expect(answer.headers['x-keep']).toBe('yes');
  });
});

describe('forwarding headers', () => {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

  it('sets X-Forwarded-For/-Proto/-Host and generates a distinct x-request-id per request', async () => {
    const { backend, origin } = await oneRoute({});
    await send(`${origin}/`, { headers: { host: 'shop.example.com' } });
    await send(`${origin}/`, { headers: { host: 'shop.example.com' } });
    const [first, second] = backend.seen.map((r) => r.headers);
    expect(first?.['x-forwarded-for']).toBe('127.0.0.1');
    expect(first?.['x-forwarded-proto']).toBe('http');
    expect(first?.['x-forwarded-host']).toBe('shop.example.com');
    expect(first?.host).toBe('shop.example.com');
    expect(first?.['x-request-id']).toMatch(uuid);
    expect(second?.['x-request-id']).toMatch(uuid);
    expect(second?.['x-request-id']).not.toBe(first?.['x-request-id']);
  });

  it('appends to an existing X-Forwarded-For and keeps a client x-request-id', async () => {
    const { backend, origin } = await oneRoute({});
    await send(`${origin}/`, {
      headers: { 'x-forwarded-for': '203.0.113.7', 'x-request-id': 'trace-123' },
    });
    const headers = backend.seen[0]!.headers;
    expect(headers['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
    expect(headers['x-request-id']).toBe('trace-123');
  });
});
