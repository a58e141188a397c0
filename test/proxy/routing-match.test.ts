/**
 * Which route of a service answers a request: precedence by priority and list order, and
 * the path, method, header, cookie and query matchers (App Mesh `HttpRouteMatch`; see
 * docs/adr/0001-data-plane.md). Service selection by Host lives in routing-virtual-services.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { answeredBy, namedRouter } from './named-routes.js';
import { useFixtures } from './support.js';

const fx = useFixtures();
const routerWith = namedRouter(fx);

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
