/**
 * Which route (and which virtual service) answers a request: precedence by priority and
 * list order, path, method, header, cookie and query matchers (App Mesh `HttpRouteMatch`,
 * REFERENCE §2), Host-based services, listener scoping and the 404 for no route.
 */
import { describe, expect, it } from 'vitest';
import type { ProxyConfigInput } from '../../src/config/proxy-schema.js';
import { parseRawAnswer, rawExchange } from './raw-http.js';
import { send, useFixtures, type RouteInput } from './support.js';

const fx = useFixtures();

type RouteSpec = Omit<RouteInput, 'targets'>;

/** One service whose every route sends to a backend named after the route. */
async function routerWith(routes: readonly RouteSpec[]): Promise<string> {
  const versions = [];
  for (const route of routes)
    versions.push({ name: route.name, endpoints: [(await fx.backend(route.name)).address] });
  const { origin } = await fx.proxy({
    listeners: [{ port: 0 }],
    services: [
      {
        name: 'shop',
        versions,
        routes: routes.map((route) => ({ ...route, targets: [{ version: route.name, weight: 1 }] })),
      },
    ],
  });
  return origin;
}

/** The backend that answered, or `404` when the router found no route. */
async function answeredBy(
  url: string,
  options: { method?: 'GET' | 'POST' | 'PUT' | 'DELETE'; headers?: Record<string, string> } = {},
): Promise<string> {
  const answer = await send(url, options);
  if (answer.status === 404) return '404';
  expect(answer.status).toBe(200);
  return answer.text;
}

describe('route precedence', () => {
  it('prefers the lower priority, then list order; routes without priority come last', async () => {
    const origin = await routerWith([
      { name: 'catch-all', match: { path: { prefix: '/' } } },
      { name: 'first-api', match: { path: { prefix: '/api' } } },
      { name: 'second-api', match: { path: { prefix: '/api' } } },
      { name: 'low-priority', priority: 500, match: { path: { prefix: '/api/v2' } } },
      { name: 'high-priority', priority: 5, match: { path: { prefix: '/api/v2/orders' } } },
    ]);
    expect(await answeredBy(`${origin}/api/v2/orders/1`)).toBe('high-priority');
    expect(await answeredBy(`${origin}/api/v2/items`)).toBe('low-priority');
    // Unprioritised routes keep list order: the catch-all listed first shadows /api.
    expect(await answeredBy(`${origin}/api/v1`)).toBe('catch-all');
  });

  it('takes the first match in list order when priorities are equal', async () => {
    const origin = await routerWith([
      { name: 'broad', priority: 10, match: { path: { prefix: '/a' } } },
      { name: 'narrow', priority: 10, match: { path: { prefix: '/a/b' } } },
    ]);
    expect(await answeredBy(`${origin}/a/b/c`)).toBe('broad');
  });
});

describe('path and method matching', () => {
  it('matches prefix, exact and regex paths, ignoring the query string', async () => {
    const origin = await routerWith([
      { name: 'exact', match: { path: { exact: '/health' } } },
      { name: 'regex', match: { path: { regex: '^/items/[0-9]+$' } } },
      { name: 'prefix', match: { path: { prefix: '/static/' } } },
    ]);
    expect(await answeredBy(`${origin}/health`)).toBe('exact');
    expect(await answeredBy(`${origin}/health?verbose=1`)).toBe('exact');
    expect(await answeredBy(`${origin}/health/`)).toBe('404');
    expect(await answeredBy(`${origin}/items/42`)).toBe('regex');
    expect(await answeredBy(`${origin}/items/42?x=y`)).toBe('regex');
    expect(await answeredBy(`${origin}/items/abc`)).toBe('404');
    expect(await answeredBy(`${origin}/static/app.js`)).toBe('prefix');
    expect(await answeredBy(`${origin}/static`)).toBe('404');
  });

  it('matches methods', async () => {
    const origin = await routerWith([
      { name: 'writes', match: { methods: ['POST', 'PUT'] } },
      { name: 'reads', match: { methods: ['GET'] } },
    ]);
    expect(await answeredBy(`${origin}/x`, { method: 'POST' })).toBe('writes');
    expect(await answeredBy(`${origin}/x`, { method: 'PUT' })).toBe('writes');
    expect(await answeredBy(`${origin}/x`)).toBe('reads');
    expect(await answeredBy(`${origin}/x`, { method: 'DELETE' })).toBe('404');
  });
});

describe('header, cookie and query matching', () => {
  it.each([
    { kind: 'exact', match: { exact: 'beta' }, yes: ['beta'], no: ['beta2', 'Beta', undefined] },
    {
      kind: 'prefix',
      match: { prefix: 'mobile-' },
      yes: ['mobile-ios', 'mobile-'],
      no: ['desktop', undefined],
    },
    {
      kind: 'suffix',
      match: { suffix: '.internal' },
      yes: ['a.internal'],
      no: ['a.internal.com', undefined],
    },
    { kind: 'regex', match: { regex: '^v[0-9]+$' }, yes: ['v1', 'v22'], no: ['v', 'x1', undefined] },
    { kind: 'present', match: { present: true }, yes: ['', 'anything'], no: [undefined] },
    { kind: 'absent', match: { present: false }, yes: [undefined], no: ['x'] },
    {
      kind: 'range [10, 20)',
      match: { range: { start: 10, end: 20 } },
      yes: ['10', '19'],
      no: ['20', '9', '1x', undefined],
    },
    {
      kind: 'inverted exact',
      match: { exact: 'beta', invert: true },
      yes: ['stable', undefined],
      no: ['beta'],
    },
    {
      kind: 'inverted range',
      match: { range: { start: 0, end: 50 }, invert: true },
      yes: ['50', 'x'],
      no: ['0', '49'],
    },
  ])('header $kind', async ({ match, yes, no }) => {
    const origin = await routerWith([
      { name: 'matched', match: { headers: [{ name: 'X-Cohort', ...match }] } },
      { name: 'fallback' },
    ]);
    const route = (value: string | undefined): Promise<string> =>
      answeredBy(`${origin}/`, { headers: value === undefined ? {} : { 'x-cohort': value } });
    for (const value of yes) expect(await route(value), `x-cohort: ${String(value)}`).toBe('matched');
    for (const value of no) expect(await route(value), `x-cohort: ${String(value)}`).toBe('fallback');
  });

  it('requires every header matcher of a route to hold', async () => {
    const origin = await routerWith([
      {
        name: 'both',
        match: {
          headers: [
            { name: 'x-a', exact: '1' },
            { name: 'x-b', exact: '2' },
          ],
        },
      },
      { name: 'fallback' },
    ]);
    expect(await answeredBy(`${origin}/`, { headers: { 'x-a': '1', 'x-b': '2' } })).toBe('both');
    expect(await answeredBy(`${origin}/`, { headers: { 'x-a': '1' } })).toBe('fallback');
  });

  it('matches cookies by name', async () => {
    const origin = await routerWith([
      { name: 'beta-testers', match: { cookies: [{ name: 'cohort', exact: 'beta' }] } },
      { name: 'fallback' },
    ]);
    expect(await answeredBy(`${origin}/`, { headers: { cookie: 'session=abc; cohort=beta' } })).toBe(
      'beta-testers',
    );
    expect(await answeredBy(`${origin}/`, { headers: { cookie: 'cohort="beta"' } })).toBe('beta-testers');
    expect(await answeredBy(`${origin}/`, { headers: { cookie: 'cohort=stable; x=beta' } })).toBe('fallback');
    expect(await answeredBy(`${origin}/`)).toBe('fallback');
  });

  it('matches query parameters', async () => {
    const origin = await routerWith([
      { name: 'gold', match: { query: [{ name: 'tier', exact: 'gold' }] } },
      { name: 'debug', match: { query: [{ name: 'debug', present: true }] } },
      { name: 'fallback' },
    ]);
    expect(await answeredBy(`${origin}/list?tier=gold`)).toBe('gold');
    expect(await answeredBy(`${origin}/list?page=2&tier=gold`)).toBe('gold');
    expect(await answeredBy(`${origin}/list?tier=silver&debug`)).toBe('debug');
    expect(await answeredBy(`${origin}/list?tier=silver`)).toBe('fallback');
    expect(await answeredBy(`${origin}/tier=gold`)).toBe('fallback');
  });
});

describe('virtual services', () => {
  async function hostRouter(withCatchAll: boolean): Promise<string> {
    const service = async (name: string, hosts: string[]) => ({
      name,
      hosts,
      versions: [{ name: 'v1', endpoints: [(await fx.backend(name)).address] }],
      routes: [{ name: 'all', targets: [{ version: 'v1', weight: 1 }] }],
    });
    const services = [
      await service('exact', ['shop.example.com']),
      await service('wildcard', ['*.example.com']),
      await service('regional', ['*.eu.example.com']),
    ];
    if (withCatchAll) services.push(await service('catch-all', ['*']));
    return (await fx.proxy({ listeners: [{ port: 0 }], services })).origin;
  }

  it('picks the service by Host: exact, then longest wildcard, then "*"', async () => {
    const origin = await hostRouter(true);
    const byHost = (host: string): Promise<string> => answeredBy(`${origin}/`, { headers: { host } });
    expect(await byHost('shop.example.com')).toBe('exact');
    expect(await byHost('SHOP.Example.com:8080')).toBe('exact');
    expect(await byHost('api.example.com')).toBe('wildcard');
    expect(await byHost('shop.eu.example.com')).toBe('regional');
    expect(await byHost('example.com')).toBe('catch-all');
    expect(await byHost('other.org')).toBe('catch-all');
  });

  it('answers 404 with a body naming the host when no service matches', async () => {
    const origin = await hostRouter(false);
    const answer = await send(`${origin}/`, { headers: { host: 'other.org' } });
    expect(answer.status).toBe(404);
    expect(answer.headers['content-type']).toMatch(/^text\/plain/);
    expect(answer.text).toContain('no service for host "other.org"');
  });

  it('answers 404 with a body naming the service and path when no route matches', async () => {
    const origin = await routerWith([{ name: 'api', match: { path: { prefix: '/api' } } }]);
    const answer = await send(`${origin}/nowhere`);
    expect(answer.status).toBe(404);
    expect(answer.text).toContain('no route of service "shop" matches GET /nowhere');
  });

  it('keeps a service on the listeners it names', async () => {
    const admin = await fx.backend('admin');
    const web = await fx.backend('web');
    const config: ProxyConfigInput = {
      listeners: [
        { name: 'public', port: 0 },
        { name: 'internal', port: 0 },
      ],
      services: [
        {
          name: 'admin',
          hosts: ['admin.local'],
          listeners: ['internal'],
          versions: [{ name: 'v1', endpoints: [admin.address] }],
          routes: [{ name: 'all', targets: [{ version: 'v1', weight: 1 }] }],
        },
        {
          name: 'web',
          versions: [{ name: 'v1', endpoints: [web.address] }],
          routes: [{ name: 'all', targets: [{ version: 'v1', weight: 1 }] }],
        },
      ],
    };
    const { proxy } = await fx.proxy(config);
    const url = (listener: string): string => `http://127.0.0.1:${proxy.address(listener).port}/`;
    const host = { host: 'admin.local' };
    expect(await answeredBy(url('internal'), { headers: host })).toBe('admin');
    expect(await answeredBy(url('public'), { headers: host })).toBe('web');
    expect(await answeredBy(url('internal'))).toBe('web');
  });
});

describe('request-target forms (RFC 9112 §3.2)', () => {
  async function targetRouter() {
    const api = await fx.backend('api');
    const other = await fx.backend('other');
    const config: ProxyConfigInput = {
      listeners: [{ port: 0 }],
      services: [
        {
          name: 'shop',
          hosts: ['shop.example.com'],
          versions: [{ name: 'api', endpoints: [api.address] }],
          routes: [
            { name: 'api', match: { path: { prefix: '/api' } }, targets: [{ version: 'api', weight: 1 }] },
          ],
        },
        {
          name: 'other',
          versions: [{ name: 'other', endpoints: [other.address] }],
          routes: [{ name: 'all', targets: [{ version: 'other', weight: 1 }] }],
        },
      ],
    };
    return { api, other, ...(await fx.proxy(config)) };
  }

  it('routes an absolute-form target on its authority and path, and forwards origin-form', async () => {
    const { api, port } = await targetRouter();
    const raw = await rawExchange(
      port,
      'GET http://shop.example.com/api/items?x=1 HTTP/1.1\r\nHost: elsewhere.org\r\nConnection: close\r\n\r\n',
    );
    expect(parseRawAnswer(raw)).toMatchObject({ status: 200, body: 'api' });
    expect(api.seen.map((r) => r.url)).toEqual(['/api/items?x=1']);
  });

  it('answers an asterisk-form target itself, without blaming (or ejecting) an endpoint', async () => {
    const { other, proxy, port } = await targetRouter();
    for (let i = 0; i < 6; i++) {
      const answer = parseRawAnswer(
        await rawExchange(port, 'OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      );
      expect(answer.status).toBe(404);
      expect(answer.body).toContain('request target "*" is not a path');
    }
    expect(other.received()).toBe(0);
    expect(proxy.metrics.render()).not.toContain('aviary_proxy_endpoint_ejected{');
    expect(proxy.metrics.versionTraffic('shop', 'api').totals.requests).toBe(0);
  });
});
