import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AppRouteSpec } from '../traffic-router.js';
import { renderHaproxyConfig, retryOnKeywords } from './haproxy-config.js';
import { appPlanFor, parseEndpoint, slotCountsFor, structureOf } from './haproxy-plan.js';
import { planCommands } from './haproxy-runtime-api.js';

const spec: AppRouteSpec = {
  app: 'shop',
  versions: [
    { name: 'v1', endpoints: ['127.0.0.1:4001', '127.0.0.1:4002'] },
    { name: 'v2', endpoints: ['http://localhost:4003'] },
  ],
};

const SETTINGS = {
  host: '127.0.0.1',
  port: 8080,
  threads: 1,
  maxConnections: 2000,
  statsSocket: '/s/stats.sock',
  metricsSocket: '/s/metrics.sock',
  logSocket: '/s/requests.sock',
};

describe('haproxy plan', () => {
  it('gives each version its slots, endpoints first, the rest empty and in maintenance', () => {
    const slots = slotCountsFor(spec, undefined, 4);
    const plan = appPlanFor(spec, { weights: { v1: 90, v2: 10 } }, slots);
    expect(plan.main.servers.map((s) => [s.name, s.address?.port, s.weight, s.ready])).toEqual([
      ['v1:0', 4001, 256, true],
      ['v1:1', 4002, 256, true],
      ['v1:2', undefined, 0, false],
      ['v1:3', undefined, 0, false],
      ['v2:0', 4003, 57, true],
      ['v2:1', undefined, 0, false],
      ['v2:2', undefined, 0, false],
      ['v2:3', undefined, 0, false],
    ]);
  });

  it('keeps an endpoint in its slot when others come and go, so the structure stays', () => {
    const slots = slotCountsFor(spec, undefined, 4);
    const before = appPlanFor(spec, { weights: { v1: 100 } }, slots);
    const moved: AppRouteSpec = {
      ...spec,
      versions: [{ name: 'v1', endpoints: ['127.0.0.1:4009', '127.0.0.1:4002'] }, spec.versions[1]!],
    };
    const after = appPlanFor(moved, { weights: { v1: 100 } }, slotCountsFor(moved, slots, 4), before);
    expect(after.main.servers[1]!.address?.port).toBe(4002);
    expect(after.main.servers[0]!.address?.port).toBe(4009);
    expect(structureOf([after])).toBe(structureOf([before]));
    expect(planCommands([before], [after])).toEqual([
      'set server app.shop/v1:0 state maint',
      'set server app.shop/v1:0 addr 127.0.0.1 port 4009',
      'set server app.shop/v1:0 weight 256',
      'set server app.shop/v1:0 state ready',
    ]);
  });

  it('doubles the slots of a version that outgrows them (a structure change)', () => {
    const many = Array.from({ length: 5 }, (_, i) => `127.0.0.1:${5000 + i}`);
    const grown = slotCountsFor(
      { ...spec, versions: [{ name: 'v1', endpoints: many }] },
      new Map([['v1', 4]]),
      4,
    );
    expect(grown.get('v1')).toBe(8);
  });

  it('raises the version that gains traffic before lowering the one that loses it', () => {
    const slots = slotCountsFor(spec, undefined, 1);
    const before = appPlanFor(spec, { weights: { v1: 100, v2: 0 } }, slots);
    const after = appPlanFor(spec, { weights: { v1: 0, v2: 100 } }, slots, before);
    expect(planCommands([before], [after])).toEqual([
      'set server app.shop/v2:0 weight 256',
      'set server app.shop/v2:0 state ready',
      'set server app.shop/v1:0 weight 0',
      'set server app.shop/v1:0 state maint',
      'set server app.shop/v1:1 weight 0',
      'set server app.shop/v1:1 state maint',
    ]);
  });

  it('server weights keep the versions’ proportions within HAProxy’s 1–256', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 3 }), (canary, replicas) => {
        const versions = [
          { name: 'a', endpoints: Array.from({ length: replicas }, (_, i) => `127.0.0.1:${6000 + i}`) },
          { name: 'b', endpoints: ['127.0.0.1:7000'] },
        ];
        const s = { app: 'p', versions };
        const plan = appPlanFor(
          s,
          { weights: { a: 100 - canary, b: canary } },
          slotCountsFor(s, undefined, 4),
        );
        const total = (v: string) =>
          plan.main.servers.filter((x) => x.version === v && x.ready).reduce((n, x) => n + x.weight, 0);
        for (const server of plan.main.servers) expect(server.weight).toBeLessThanOrEqual(256);
        const share = total('b') / (total('a') + total('b'));
        // Rounding to integers moves a share by at most 0.5/1 of the smallest server weight.
        expect(Math.abs(share - canary / 100)).toBeLessThan(canary === 100 ? 1e-9 : 0.02 + 1 / 256);
      }),
    );
  });

  it('refuses mirroring and names that HAProxy cannot hold', () => {
    const slots = slotCountsFor(spec, undefined, 4);
    expect(() =>
      appPlanFor(spec, { weights: { v1: 100 }, mirror: { version: 'v2', percent: 5 } }, slots),
    ).toThrow(/mirroring to v2 is not supported by the haproxy router/);
    expect(() => parseEndpoint('catalog.internal:80', 'shop')).toThrow(/takes IP addresses/);
  });
});

describe('haproxy config', () => {
  it('renders A/B ACLs ahead of the weighted backend, cookies, retries and the request log', () => {
    const s: AppRouteSpec = {
      ...spec,
      hosts: ['shop.example.com'],
      pathPrefix: '/shop',
      timeoutMs: 2000,
      retries: { attempts: 2, retryOn: ['gateway-error'] },
      sessionAffinity: { cookieName: 'shop-v', maxAgeSeconds: 60 },
    };
    const plan = appPlanFor(
      s,
      {
        weights: { v1: 100 },
        abTesting: { version: 'v2', rules: [{ headers: [{ name: 'X-Canary', exact: 'yes "q"' }] }] },
      },
      slotCountsFor(s, undefined, 1),
    );
    const text = renderHaproxyConfig(SETTINGS, [plan]);
    expect(text).toContain('  acl host0 req.hdr(host),regsub(:[0-9]+$,) -i "shop.example.com"');
    expect(text).toContain('  acl app0_ab0_0 req.fhdr(x-canary) -m str "yes \\"q\\""');
    expect(text.indexOf('use_backend ab.shop if host0 app0_path app0_ab0_0')).toBeLessThan(
      text.indexOf('use_backend app.shop if host0 app0_path'),
    );
    expect(text.indexOf('use_backend app.shop if host0 app0_path')).toBeLessThan(
      text.indexOf('use_backend aviary-no-route if host0'),
    );
    expect(text).toContain('  cookie shop-v insert indirect nocache attr "Max-Age=60"');
    expect(text).toContain('  server v1:0 127.0.0.1:4001 weight 256 cookie v1:0');
    expect(text).toContain('  retry-on conn-failure 502 503 504');
    expect(text).toContain('  timeout server 2000ms');
    expect(text).toContain('  server aviary unix@/s/requests.sock');
    expect(text).toContain('  stats socket /s/stats.sock mode 600 level admin expose-fd listeners');
  });

  it('maps App Mesh retry events to retry-on keywords, leaving out what HAProxy lacks', () => {
    expect(retryOnKeywords(['connect-failure', 'reset', '503', 'unavailable'])).toEqual([
      'conn-failure',
      'empty-response',
      'junk-response',
      '503',
    ]);
  });
});
