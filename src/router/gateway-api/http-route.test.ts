import { describe, expect, it } from 'vitest';
import type { AppRouteSpec } from '../traffic-router.js';
import { renderHttpRoute, type HttpRouteOptions } from './http-route.js';
import { options, ref, service, spec } from './http-route-test-support.js';
import { ignoredFieldsOf } from './ignored-fields.js';
import { durationOf } from './route-duration.js';

describe('renderHttpRoute', () => {
  it('writes one HTTPRoute named after the app with parentRefs, hostnames and weighted backendRefs', () => {
    const route = renderHttpRoute(spec, { weights: { primary: 90, canary: 10 } }, options);
    expect(route).toEqual({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'catalog', namespace: 'shop', labels: { 'app.kubernetes.io/managed-by': 'aviary' } },
      spec: {
        parentRefs: [
          {
            group: 'gateway.networking.k8s.io',
            kind: 'Gateway',
            name: 'public',
            namespace: 'gateways',
            sectionName: 'https',
          },
        ],
        hostnames: ['catalog.example.com'],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/' } }],
            backendRefs: [ref('catalog-primary', 90), ref('catalog-canary', 10)],
          },
        ],
      },
    });
  });

  it('keeps every version listed, at weight 0 when the state omits it, and names another namespace', () => {
    const withBaseline: AppRouteSpec = {
      ...spec,
      versions: [...spec.versions, { name: 'baseline', service: service('catalog-baseline', 'other') }],
    };
    const route = renderHttpRoute(
      withBaseline,
      { weights: { canary: 100 } },
      { ...options, name: 'catalog-apex' },
    );
    expect(route.metadata?.name).toBe('catalog-apex');
    expect(route.spec.rules[0]?.backendRefs).toEqual([
      ref('catalog-primary', 0),
      ref('catalog-canary', 100),
      { ...ref('catalog-baseline', 0), namespace: 'other' },
    ]);
  });

  it('mirrors to a version with a RequestMirror filter on the default rule only', () => {
    const route = renderHttpRoute(
      spec,
      { weights: { primary: 100 }, mirror: { version: 'canary', percent: 40 } },
      options,
    );
    expect(route.spec.rules).toHaveLength(1);
    expect(route.spec.rules[0]?.filters).toEqual([
      {
        type: 'RequestMirror',
        requestMirror: {
          backendRef: { group: '', kind: 'Service', name: 'catalog-canary', port: 8080 },
          percent: 40,
        },
      },
    ]);
  });

  it('sets timeouts, the per-try timeout as backendRequest, and the rewrite on every rule', () => {
    const route = renderHttpRoute(
      {
        ...spec,
        pathPrefix: '/api',
        rewritePrefix: '/',
        timeoutMs: 90_500,
        retries: { attempts: 0, perTryTimeoutMs: 500 },
      },
      {
        weights: { primary: 100 },
        abTesting: { version: 'canary', rules: [{ headers: [{ name: 'x', exact: '1' }] }] },
      },
      options,
    );
    for (const rule of route.spec.rules) {
      expect(rule.timeouts).toEqual({ request: '1m30s500ms', backendRequest: '500ms' });
      expect(rule.filters?.[0]).toEqual({
        type: 'URLRewrite',
        urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } },
      });
    }
  });

  it('omits hostnames for any host, and takes the spec hosts when the options name none', () => {
    const { hostnames: _none, ...noHosts } = options;
    expect(
      renderHttpRoute({ ...spec, hosts: ['*'] }, { weights: { primary: 1 } }, noHosts).spec.hostnames,
    ).toBeUndefined();
    expect(
      renderHttpRoute({ ...spec, hosts: ['a.example'] }, { weights: { primary: 1 } }, noHosts).spec.hostnames,
    ).toEqual(['a.example']);
  });

  it('sets the owner reference so the route goes with its Canary', () => {
    const ownerReference = {
      apiVersion: 'aviary.dev/v1alpha1',
      kind: 'Canary',
      name: 'catalog',
      uid: 'u-1',
      controller: true,
    };
    expect(
      renderHttpRoute(spec, { weights: { primary: 100 } }, { ...options, ownerReference }).metadata
        ?.ownerReferences,
    ).toEqual([ownerReference]);
  });

  it('refuses what no route can carry, each with its code and what is wrong', () => {
    const render =
      (s: AppRouteSpec, weights: Record<string, number>, o: HttpRouteOptions = options) =>
      () =>
        renderHttpRoute(s, { weights }, o);
    expect(
      render({ ...spec, versions: [{ name: 'primary', endpoints: ['127.0.0.1:1'] }] }, { primary: 100 }),
    ).toThrow(
      expect.objectContaining({
        code: 'AVIARY_ROUTER_CONFIG',
        message: expect.stringContaining('versions[0] (primary)') as string,
      }),
    );
    expect(render(spec, { primary: 100 }, { ...options, parentRefs: [] })).toThrow(
      expect.objectContaining({
        code: 'AVIARY_ROUTER_CONFIG',
        message: expect.stringContaining('parentRefs') as string,
      }),
    );
    expect(render(spec, { primary: 90, ghost: 10 })).toThrow(
      expect.objectContaining({ code: 'AVIARY_ROUTE_NO_ENDPOINTS' }),
    );
    expect(render(spec, { primary: 0, canary: 0 })).toThrow(
      expect.objectContaining({ code: 'AVIARY_CONFIG_INVALID' }),
    );
    expect(render(spec, { primary: 1.5 })).toThrow(
      expect.objectContaining({
        code: 'AVIARY_CONFIG_INVALID',
        message: expect.stringContaining('weights.primary') as string,
      }),
    );
    expect(() =>
      renderHttpRoute(
        spec,
        { weights: { primary: 100 }, mirror: { version: 'ghost', percent: 10 } },
        options,
      ),
    ).toThrow(expect.objectContaining({ code: 'AVIARY_ROUTE_NO_ENDPOINTS' }));
  });
});

describe('ignoredFieldsOf', () => {
  it('lists retries and session affinity, which the standard channel cannot carry', () => {
    expect(
      ignoredFieldsOf({
        ...spec,
        timeoutMs: 1000,
        retries: { attempts: 3, perTryTimeoutMs: 2000, retryOn: ['5xx'] },
        sessionAffinity: { cookieName: 'c', maxAgeSeconds: 60 },
      }).map((f) => f.path),
    ).toEqual(['retries.attempts', 'retries.retryOn', 'retries.perTryTimeoutMs', 'sessionAffinity']);
    expect(
      ignoredFieldsOf({ ...spec, timeoutMs: 1000, retries: { attempts: 0, perTryTimeoutMs: 500 } }),
    ).toEqual([]);
  });
});

describe('durationOf', () => {
  it('writes GEP-2257 durations', () => {
    expect([0, 500, 10_000, 60_000, 90_500, 3_600_001].map(durationOf)).toEqual([
      '0s',
      '500ms',
      '10s',
      '1m',
      '1m30s500ms',
      '1h1ms',
    ]);
    expect(() => durationOf(-1)).toThrow(expect.objectContaining({ code: 'AVIARY_ROUTER_CONFIG' }));
    expect(() => durationOf(100_000 * 3_600_000)).toThrow(
      expect.objectContaining({ code: 'AVIARY_ROUTER_CONFIG' }),
    );
  });
});
