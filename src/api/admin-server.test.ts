import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { proxyConfigSchema } from '../config/proxy-schema.js';
import { ProxyServer } from '../proxy/proxy-server.js';
import { AdminServer } from './admin-server.js';

const TOKEN = 'admin-test-token';

describe('admin API', () => {
  let backend: Server;
  let proxy: ProxyServer;
  let admin: AdminServer;
  let adminUrl: string;
  let dataUrl: string;
  let config: Record<string, unknown>;

  beforeEach(async () => {
    backend = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
    const port = (backend.address() as AddressInfo).port;
    config = {
      listeners: [{ port: 0 }],
      services: [
        {
          name: 'shop',
          versions: [
            { name: 'v1', endpoints: [`127.0.0.1:${port}`] },
            { name: 'v2', endpoints: [`127.0.0.1:${port}`] },
          ],
          routes: [{ name: 'main', targets: [{ version: 'v1', weight: 100 }] }],
        },
      ],
    };
    proxy = new ProxyServer(proxyConfigSchema.parse(config));
    await proxy.start();
    admin = new AdminServer(proxy, { port: 0, token: TOKEN });
    adminUrl = `http://127.0.0.1:${(await admin.start()).port}`;
    dataUrl = `http://127.0.0.1:${proxy.address().port}`;
  });

  afterEach(async () => {
    await admin.close();
    await proxy.close();
    backend.close();
  });

  const call = async (
    method: 'GET' | 'PUT',
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ) => {
    const res = await request(`${adminUrl}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    return { status: res.statusCode, json: (await res.body.json()) as Record<string, any> };
  };
  const auth = { authorization: `Bearer ${TOKEN}` };

  it('refuses mutations without the token or with a wrong one', async () => {
    const body = JSON.stringify({ weights: { v1: 50, v2: 50 } });
    expect((await call('PUT', '/services/shop/routes/main/weights', body)).status).toBe(401);
    const wrong = await call('PUT', '/services/shop/routes/main/weights', body, {
      authorization: 'Bearer nope',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error.code).toBe('AVIARY_UNAUTHORIZED');
    expect(proxy.generation).toBe(1);
  });

  it('sets weights with a new generation', async () => {
    const res = await call(
      'PUT',
      '/services/shop/routes/main/weights',
      JSON.stringify({ weights: { v1: 50, v2: 50 } }),
      auth,
    );
    expect(res).toEqual({ status: 200, json: { generation: 2 } });
    expect((await call('GET', '/config')).json.config.services[0].routes[0].targets).toEqual([
      { version: 'v1', weight: 50 },
      { version: 'v2', weight: 50 },
    ]);
  });

  it('rejects a bad config with path-named issues and keeps serving the old one', async () => {
    const bad = structuredClone(config) as any;
    bad.services[0].routes[0].targets[0].weight = -5;
    bad.services[0].routes[0].timeout = 'soon';
    const res = await call('PUT', '/config', JSON.stringify(bad), auth);
    expect(res.status).toBe(400);
    expect(res.json.error.issues).toEqual(
      expect.arrayContaining([
        { path: 'services[0].routes[0].targets[0].weight', message: 'expected a number >= 0, got -5' },
        expect.objectContaining({ path: 'services[0].routes[0].timeout' }),
      ]),
    );
    expect(proxy.generation).toBe(1);
    expect((await request(dataUrl)).statusCode).toBe(200);
  });

  it('accepts YAML and reports YAML syntax errors with a line', async () => {
    const yaml = `listeners:\n  - port: 0\nservices: []\n`;
    expect((await call('PUT', '/config', yaml, auth)).json).toEqual({ generation: 2 });
    const broken = await call('PUT', '/config', 'listeners: [\n  - port', auth);
    expect(broken.status).toBe(400);
    expect(broken.json.error.issues[0].message).toMatch(/line \d+/);
  });

  it('refuses a change based on a stale generation', async () => {
    await call(
      'PUT',
      '/services/shop/routes/main/weights',
      JSON.stringify({ weights: { v1: 1, v2: 1 } }),
      auth,
    );
    const stale = await call('PUT', '/config', JSON.stringify(config), { ...auth, 'if-match': '1' });
    expect(stale.status).toBe(409);
    expect(stale.json.error.code).toBe('AVIARY_GENERATION_CONFLICT');
    expect((await call('PUT', '/config', JSON.stringify(config), { ...auth, 'if-match': '2' })).json).toEqual(
      {
        generation: 3,
      },
    );
  });

  it('serves metrics and per-version traffic', async () => {
    for (let i = 0; i < 5; i++) await (await request(dataUrl)).body.text();
    const metrics = await request(`${adminUrl}/metrics`);
    expect(metrics.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await metrics.body.text();
    expect(text).toMatch(
      /aviary_proxy_requests_total\{service="shop",route="main",version="v1",endpoint="[^"]+",code="200"\} 5/,
    );
    // The proxy process's own event-loop delay, under a name of its own (see event-loop-delay.ts).
    expect(text).toMatch(/^aviary_proxy_event_loop_delay_seconds\{quantile="0\.99"\} \d/m);
    const traffic = await call('GET', '/services/shop/versions/v1/traffic?seconds=60');
    expect(traffic.json).toMatchObject({ requests: 5, errors5xx: 0 });
    expect(traffic.json.p99).toBeGreaterThan(0);
    expect((await call('GET', '/services/shop/versions/v1/traffic?seconds=-1')).status).toBe(400);
  });
});
