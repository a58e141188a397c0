/**
 * The `gateway-api` router on the real test control plane: weights, A/B rules, mirroring,
 * reconcile and finalize, each read back from the API server, a route it did not create left
 * alone, and the router conformance suite (acceptance: gateway-api-acceptance.test.ts).
 */
import { expect, it } from 'vitest';
import { GatewayApiRouter } from '../../src/router/gateway-api/gateway-api-router.js';
import { kubectl } from '../cluster/kubectl.js';
import { runRouterConformance } from '../conformance/router-conformance.js';
import { describeOnGatewayPlane, GATEWAY, NAMESPACE, routeOf, specOf } from './gateway-api-fixture.js';

describeOnGatewayPlane('GatewayApiRouter on a real API server', (g) => {
  it('steps weights 90/10 → 50/50 → 100/0, each read back from the API server', async () => {
    const router = g.routerFor();
    await router.reconcile(specOf('steps'));
    expect(await router.getRoutes('steps')).toEqual({ weights: { primary: 100, canary: 0 } });
    await g.withGateway('steps', async () => {
      for (const [primary, canary] of [
        [90, 10],
        [50, 50],
        [100, 0],
      ] as const) {
        await router.setRoutes('steps', { weights: { primary, canary } });
        expect(await router.getRoutes('steps')).toEqual({ weights: { primary, canary } });
        const stored = await g.readRoute('steps');
        expect(stored.spec.rules.at(-1)?.backendRefs.map((b) => [b.name, b.weight])).toEqual([
          ['steps-primary', primary],
          ['steps-canary', canary],
        ]);
      }
    });
  });

  it('writes A/B rules the API server accepts (its CEL rules included) and reads them back', async () => {
    const spec = specOf('ab', {
      pathPrefix: '/api',
      rewritePrefix: '/',
      timeoutMs: 30_000,
      retries: { attempts: 2, perTryTimeoutMs: 5_000 },
    });
    const ignored: string[] = [];
    const router = new GatewayApiRouter(g.api, {
      routeOf,
      acceptancePollMs: 100,
      onIgnoredFields: (app, fields) => ignored.push(...fields.map((f) => `${app}: ${f.path}`)),
    });
    await router.reconcile(spec);
    expect(ignored).toEqual(['ab: retries.attempts']);
    const abTesting = {
      version: 'canary',
      rules: [
        { headers: [{ name: 'x-canary', exact: 'insider' }] },
        {
          headers: [
            { name: 'x-region', prefix: 'eu-west.' },
            { name: 'x-beta', present: true },
          ],
        },
        { cookies: [{ name: 'canary', exact: 'always' }] },
        { headers: [{ name: 'user-agent', regex: '.*(Firefox|Safari).*' }] },
      ],
    };
    await g.withGateway('ab', () =>
      router.setRoutes('ab', { weights: { primary: 100, canary: 0 }, abTesting }),
    );
    expect(await router.getRoutes('ab')).toEqual({ weights: { primary: 100, canary: 0 }, abTesting });
    const rules = (await g.readRoute('ab')).spec.rules;
    expect(rules).toHaveLength(5);
    expect(rules[2]?.matches[0]?.headers).toEqual([
      { name: 'Cookie', type: 'RegularExpression', value: '^(.*;\\s*)?canary=always(;.*)?$' },
    ]);
    expect(rules.map((r) => r.timeouts)).toEqual(Array(5).fill({ request: '30s', backendRequest: '5s' }));
  });

  it('sets the mirror filter, then removes it', async () => {
    const router = g.routerFor();
    await router.reconcile(specOf('mirror'));
    const filters = async () => (await g.readRoute('mirror')).spec.rules.at(-1)?.filters;
    await g.withGateway('mirror', async () => {
      await router.setRoutes('mirror', {
        weights: { primary: 100, canary: 0 },
        mirror: { version: 'canary', percent: 100 },
      });
      expect(await filters()).toEqual([
        {
          type: 'RequestMirror',
          requestMirror: {
            backendRef: { group: '', kind: 'Service', name: 'mirror-canary', port: 80 },
            percent: 100,
          },
        },
      ]);
      expect((await router.getRoutes('mirror')).mirror).toEqual({ version: 'canary', percent: 100 });
      await router.setRoutes('mirror', { weights: { primary: 0, canary: 100 } });
      expect(await filters()).toBeUndefined();
      expect(await router.getRoutes('mirror')).toEqual({ weights: { primary: 0, canary: 100 } });
    });
  });

  it('keeps the weights on reconcile, and finalizes to all traffic on the primary without deleting the route', async () => {
    const router = g.routerFor();
    await router.reconcile(specOf('final'));
    await g.withGateway('final', () =>
      router.setRoutes('final', {
        weights: { primary: 40, canary: 60 },
        mirror: { version: 'canary', percent: 10 },
      }),
    );
    await g.routerFor().reconcile(specOf('final', { timeoutMs: 5_000 }));
    expect(await router.getRoutes('final')).toEqual({
      weights: { primary: 40, canary: 60 },
      mirror: { version: 'canary', percent: 10 },
    });
    await router.finalize('final');
    await expect(router.getRoutes('final')).rejects.toMatchObject({ code: 'AVIARY_ROUTE_UNKNOWN_APP' });
    const stored = await g.readRoute('final');
    expect(stored.spec.rules).toHaveLength(1);
    expect(stored.spec.rules[0]?.filters).toBeUndefined();
    expect(stored.spec.rules[0]?.backendRefs.map((b) => [b.name, b.weight])).toEqual([
      ['final-primary', 100],
      ['final-canary', 0],
    ]);
  });

  it('refuses to take over an HTTPRoute it did not create', async () => {
    const foreign = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'foreign', namespace: NAMESPACE },
      spec: { parentRefs: [GATEWAY], rules: [{ backendRefs: [{ name: 'someone-else', port: 80 }] }] },
    };
    await kubectl(g.plane.kubeconfig, ['apply', '-f', '-'], JSON.stringify(foreign));
    const router = g.routerFor();
    await expect(router.reconcile(specOf('foreign'))).rejects.toMatchObject({
      code: 'AVIARY_ROUTER_CONFIG',
      message: expect.stringContaining(
        'HTTPRoute default/foreign exists but was not created by Aviary',
      ) as string,
    });
    const stored = await g.readRoute('foreign');
    expect(stored.spec.rules[0]?.backendRefs.map((b) => b.name)).toEqual(['someone-else']);
    expect(stored.metadata?.generation).toBe(1);
  });

  // The shared cases: all but two send requests through a data plane, and run where one
  // runs; here the route's effect is checked above by reading it back.
  runRouterConformance({
    name: 'gateway-api',
    create: () =>
      Promise.resolve({
        router: g.routerFor(),
        // Not a URL any client can reach: a case that sends a request fails loudly.
        dataPlaneUrl: 'gateway-api://no-data-plane',
        close: () => Promise.resolve(),
      }),
    skip: [
      {
        reason:
          'sends requests through the data plane; no gateway runs in the test cluster (and the cases give versions as replica addresses, where this router routes to Services)',
        tests: [
          'reconcile sends all traffic to the first version',
          'setRoutes splits traffic and getRoutes reads it back',
          'mirror copies requests to the mirror version',
          'A/B rules send matching requests to the canary only',
          'reconcile keeps weights when endpoints change',
          'traffic is never sent to a version without endpoints',
          'a weighted version that loses its endpoints loses its traffic on reconcile',
          'finalize removes the routes',
        ],
      },
    ],
  });
});
