/**
 * The `haproxy` router routes as the `embedded` one: the same apps and route states on a
 * real HAProxy and on the built-in proxy, and a table of requests (hosts, wildcard hosts, path
 * prefixes, prefix rewrites, A/B rules on headers and cookies with exact, prefix, regex and
 * present matches) sent to both. Each request must reach the same version with the same path.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyConfigSchema } from '../../src/config/proxy-schema.js';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { EmbeddedRouter } from '../../src/router/embedded-router.js';
import type { HaproxyEngine } from '../../src/router/haproxy/haproxy-engine.js';
import type { AppRouteSpec, RouteState, TrafficRouter } from '../../src/router/traffic-router.js';
import { startHaproxyEngine } from './haproxy-test-support.js';

/** A backend that answers `<name> <path and query>`. */
async function startBackend(name: string): Promise<{ address: string; server: Server }> {
  const server = createServer((req, res) => res.end(`${name} ${req.url}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

interface Probe {
  readonly host: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
}

const PROBES: readonly Probe[] = [
  { host: 'shop.example.com', path: '/shop/items?q=1' },
  { host: 'shop.example.com', path: '/shop' },
  { host: 'shop.example.com:8080', path: '/shop/' },
  { host: 'SHOP.Example.com', path: '/shop/a' },
  { host: 'shop.example.com', path: '/shopping' },
  { host: 'shop.example.com', path: '/other' },
  { host: 'api.example.com', path: '/v1/users' },
  { host: 'api.example.com', path: '/v1x' },
  { host: 'a.wild.test', path: '/x' },
  { host: 'deep.a.wild.test', path: '/x' },
  { host: 'wild.test', path: '/x' },
  { host: 'elsewhere.test', path: '/anything' },
  { host: 'elsewhere.test', path: '/', headers: { 'x-canary': 'yes, please' } },
  { host: 'elsewhere.test', path: '/', headers: { 'x-canary': 'yes' } },
  { host: 'elsewhere.test', path: '/', headers: { 'x-tier': 'gold' } },
  { host: 'elsewhere.test', path: '/', headers: { 'x-tier': 'golden' } },
  { host: 'elsewhere.test', path: '/', headers: { 'x-tier': 'old' } },
  { host: 'elsewhere.test', path: '/', headers: { 'x-agent': 'Mozilla/5.0 Firefox/130' } },
  { host: 'elsewhere.test', path: '/', headers: { 'x-agent': 'curl/8' } },
  { host: 'elsewhere.test', path: '/', headers: { cookie: 'beta=on; theme=dark' } },
  { host: 'elsewhere.test', path: '/', headers: { cookie: 'beta=onward' } },
  { host: 'elsewhere.test', path: '/', headers: { cookie: 'plan=pro-2024' } },
  { host: 'elsewhere.test', path: '/', headers: { cookie: 'plan=basic' } },
  { host: 'elsewhere.test', path: '/', headers: { 'x-debug': '' } },
];

interface Setup {
  readonly specs: readonly AppRouteSpec[];
  readonly states: Readonly<Record<string, RouteState>>;
}

function setupOf(address: (name: string) => string): Setup {
  const versions = (app: string) => [
    { name: 'v1', endpoints: [address(`${app}-v1`)] },
    { name: 'v2', endpoints: [address(`${app}-v2`)] },
  ];
  const specs: AppRouteSpec[] = [
    {
      app: 'shop',
      hosts: ['shop.example.com'],
      pathPrefix: '/shop',
      rewritePrefix: '/',
      versions: versions('shop'),
    },
    {
      app: 'api',
      hosts: ['api.example.com'],
      pathPrefix: '/v1',
      rewritePrefix: '/api/v1',
      versions: versions('api'),
    },
    { app: 'wild', hosts: ['*.wild.test'], versions: versions('wild') },
    { app: 'any', versions: versions('any') },
  ];
  const toV1: RouteState = { weights: { v1: 100 } };
  const states: Record<string, RouteState> = {
    shop: toV1,
    api: toV1,
    wild: toV1,
    any: {
      weights: { v1: 100 },
      abTesting: {
        version: 'v2',
        rules: [
          { headers: [{ name: 'X-Canary', exact: 'yes, please' }] },
          { headers: [{ name: 'x-tier', regex: 'gold|silver' }] },
          { headers: [{ name: 'x-agent', prefix: 'Mozilla/' }] },
          { cookies: [{ name: 'beta', exact: 'on' }] },
          { cookies: [{ name: 'plan', regex: 'pro-[0-9]+' }] },
          { headers: [{ name: 'x-debug', present: true }] },
        ],
      },
    },
  };
  return { specs, states };
}

async function routeAll(router: TrafficRouter, setup: Setup): Promise<void> {
  for (const spec of setup.specs) {
    await router.reconcile(spec);
    await router.setRoutes(spec.app, setup.states[spec.app]!);
  }
}

async function answer(base: string, probe: Probe): Promise<string> {
  const res = await request(`${base}${probe.path}`, { headers: { ...probe.headers, host: probe.host } });
  return `${res.statusCode} ${res.statusCode === 404 ? '' : await res.body.text()}`;
}

describe('haproxy router routes as the embedded router', () => {
  const servers: Server[] = [];
  const addresses = new Map<string, string>();
  let dir: string;
  let haproxy: HaproxyEngine;
  let proxy: ProxyServer;

  beforeAll(async () => {
    for (const app of ['shop', 'api', 'wild', 'any'])
      for (const version of ['v1', 'v2']) {
        const backend = await startBackend(`${app}-${version}`);
        servers.push(backend.server);
        addresses.set(`${app}-${version}`, backend.address);
      }
    const setup = setupOf((name) => addresses.get(name)!);
    dir = await mkdtemp(join(tmpdir(), 'aviary-hx-'));
    haproxy = await startHaproxyEngine(dir);
    await routeAll(haproxy.router, setup);
    proxy = new ProxyServer(proxyConfigSchema.parse({ listeners: [{ port: 0 }] }));
    await proxy.start();
    await routeAll(new EmbeddedRouter(proxy), setup);
  });

  afterAll(async () => {
    await haproxy?.close();
    await proxy?.close();
    for (const server of servers) server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it.each(PROBES)('$host $path $headers', async (probe) => {
    const embedded = await answer(`http://127.0.0.1:${proxy.address().port}`, probe);
    expect(await answer(haproxy.address, probe)).toBe(embedded);
  });

  it('reaches the canary through each kind of A/B rule, so the table tests both sides', async () => {
    const canary = await Promise.all(
      PROBES.filter((p) => p.headers !== undefined).map((p) => answer(haproxy.address, p)),
    );
    expect(canary.filter((a) => a.startsWith('200 any-v2')).length).toBeGreaterThanOrEqual(6);
    expect(canary.filter((a) => a.startsWith('200 any-v1')).length).toBeGreaterThanOrEqual(4);
  });
});
