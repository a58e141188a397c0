/**
 * The proxy's admin API (`aviary proxy`), docs/security.md: its mutations (PUT and POST of
 * /config and of a route's weights) answer 401 without the token or with a wrong one, and
 * 403 from a page of another origin even with it; the running config stays as it was. The
 * token is compared in constant time (`hasToken`, shared by every API). Real servers on
 * port 0.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AdminServer } from '../../src/api/admin-server.js';
import { hasToken } from '../../src/api/http-json.js';
import { proxyConfigSchema } from '../../src/config/proxy-schema.js';
import { ProxyServer } from '../../src/proxy/proxy-server.js';

const TOKEN = 'admin-SECRET-token-4b1d';
const CONFIG = {
  listeners: [{ port: 0 }],
  services: [
    {
      name: 'shop',
      versions: [
        { name: 'v1', endpoints: ['127.0.0.1:1'] },
        { name: 'v2', endpoints: ['127.0.0.1:1'] },
      ],
      routes: [{ name: 'main', targets: [{ version: 'v1', weight: 100 }] }],
    },
  ],
};
const MUTATIONS: readonly (readonly [string, string, string])[] = [
  ['PUT', '/config', JSON.stringify(CONFIG)],
  ['POST', '/config', JSON.stringify(CONFIG)],
  ['PUT', '/services/shop/routes/main/weights', '{"weights":{"v1":50,"v2":50}}'],
  ['POST', '/services/shop/routes/main/weights', '{"weights":{"v1":50,"v2":50}}'],
];
const WRONG: readonly (string | undefined)[] = [
  undefined,
  'Bearer nope',
  `Basic ${TOKEN}`,
  `Bearer ${TOKEN}0`,
  TOKEN,
];

let proxy: ProxyServer;
let admin: AdminServer;
let url: string;

beforeEach(async () => {
  proxy = new ProxyServer(proxyConfigSchema.parse(CONFIG));
  await proxy.start();
  admin = new AdminServer(proxy, { port: 0, token: TOKEN });
  url = `http://127.0.0.1:${(await admin.start()).port}`;
});

afterEach(async () => {
  await admin.close();
  await proxy.close();
});

describe('admin API mutations', () => {
  const cases = MUTATIONS.flatMap(([method, path, body]) =>
    WRONG.map((authorization) => ({ method, path, body, authorization })),
  );

  it.each(cases)(
    '$method $path with $authorization: 401, generation unchanged',
    async ({ method, path, body, authorization }) => {
      const generation = proxy.generation;
      const response = await fetch(`${url}${path}`, {
        method,
        body,
        headers: authorization === undefined ? {} : { authorization },
      });
      const text = await response.text();
      expect(response.status).toBe(401);
      expect(text).toContain('AVIARY_UNAUTHORIZED');
      expect(text).not.toContain(TOKEN);
      expect(proxy.generation).toBe(generation);
    },
  );

  it.each(MUTATIONS)(
    '%s %s from https://evil.example with the token: 403, unchanged',
    async (method, path, body) => {
      const generation = proxy.generation;
      const response = await fetch(`${url}${path}`, {
        method,
        body,
        headers: { authorization: `Bearer ${TOKEN}`, origin: 'https://evil.example' },
      });
      expect(response.status).toBe(403);
      expect(await response.text()).toContain('AVIARY_CROSS_ORIGIN');
      expect(proxy.generation).toBe(generation);
    },
  );

  it.each(MUTATIONS)(
    '%s %s with the token from a non-browser client: applied',
    async (method, path, body) => {
      const generation = proxy.generation;
      const response = await fetch(`${url}${path}`, {
        method,
        body,
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      expect(response.status).toBe(200);
      expect(proxy.generation).toBe(generation + 1);
    },
  );
});

describe('token comparison', () => {
  const request = (authorization?: string): IncomingMessage =>
    ({ headers: authorization === undefined ? {} : { authorization } }) as IncomingMessage;

  it('accepts exactly the token, whatever the case of the scheme', () => {
    expect(hasToken(request(`Bearer ${TOKEN}`), TOKEN)).toBe(true);
    expect(hasToken(request(`bearer ${TOKEN}`), TOKEN)).toBe(true);
    for (const wrong of [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      `Bearer ${TOKEN.slice(1)}`,
      `Bearer ${TOKEN}${TOKEN}`,
      `Basic ${TOKEN}`,
    ])
      expect(hasToken(request(wrong), TOKEN), String(wrong)).toBe(false);
  });

  it('refuses an empty presented token even when the configured one is empty', () => {
    expect(hasToken(request('Bearer '), '')).toBe(false);
  });

  it('compares fixed-length SHA-256 digests with timingSafeEqual, never the strings', async () => {
    const source = await readFile(new URL('../../src/api/http-json.ts', import.meta.url), 'utf8');
    const body = /export function hasToken[\s\S]*?\n}\n/.exec(source)?.[0] ?? '';
    expect(body).toContain('timingSafeEqual(digest(presented), digest(token))');
    expect(body).not.toMatch(/presented\s*[!=]==\s*token|token\s*[!=]==\s*presented/);
    expect(source).toMatch(/function digest\(value: string\): Buffer \{\s*return createHash\('sha256'\)/);
    // Every route checks the token through requireToken/hasToken; no other comparison exists.
    const routes = ['control-server.ts', 'admin-server.ts', 'pipeline-routes.ts', 'release-routes.ts'];
    for (const file of routes) {
      const text = await readFile(new URL(`../../src/api/${file}`, import.meta.url), 'utf8');
      expect(text, file).toContain('requireToken(');
      expect(text, file).not.toMatch(/[!=]==\s*(this\.options\.)?token\b/);
    }
  });
});
