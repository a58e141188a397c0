/**
 * Which virtual service answers a request: Host-based selection (exact, longest wildcard,
 * "*"), listener scoping, the 404 bodies for no service or no route, and the request-target
 * forms of RFC 9112 §3.2. Route matching inside a service lives in routing-match.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ProxyConfigInput } from '../../src/config/proxy-schema.js';
import { answeredBy, namedRouter } from './named-routes.js';
import { parseRawAnswer, rawExchange } from './raw-http.js';
import { send, useFixtures } from './support.js';

const fx = useFixtures();
const routerWith = namedRouter(fx);

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
