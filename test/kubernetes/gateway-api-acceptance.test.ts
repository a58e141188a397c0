/**
 * The `gateway-api` router's acceptance on the real test control plane: a step counts only
 * once the gateway accepted the route's current generation; a refusal, a timeout and an
 * abort each end the wait; a route already applied is not applied or waited for again.
 */
import { expect, it } from 'vitest';
import { KubeApi } from '../../src/kubernetes/kube-api.js';
import { GatewayApiRouter } from '../../src/router/gateway-api/gateway-api-router.js';
import type { RouteState } from '../../src/router/traffic-router.js';
import { describeOnGatewayPlane, routeOf, specOf } from './gateway-api-fixture.js';

describeOnGatewayPlane('GatewayApiRouter: route acceptance on a real API server', (g) => {
  it('waits for the gateway to accept the new generation before a step counts', async () => {
    const router = g.routerFor();
    await router.reconcile(specOf('waits'));
    // The gateway answers each generation a second after it sees it, noting it first.
    const answeredWhenResolved = await g.withGateway(
      'waits',
      async (gateway) => {
        await router.setRoutes('waits', { weights: { primary: 90, canary: 10 } });
        return [...gateway.answered];
      },
      { status: 'True' },
      1_000,
    );
    const stored = await g.readRoute('waits');
    expect(answeredWhenResolved).toContain(2);
    expect(stored.metadata?.generation).toBe(2);
    expect(stored.status?.parents?.[0]?.conditions?.[0]).toMatchObject({
      status: 'True',
      observedGeneration: 2,
    });
  });

  it('rejects with the parent’s reason when the gateway refuses the route', async () => {
    const router = g.routerFor();
    await router.reconcile(specOf('refused'));
    const verdict = {
      status: 'False',
      reason: 'NotAllowedByListeners',
      message: 'no listener allows this route',
    } as const;
    const error = await g.withGateway(
      'refused',
      () => router.setRoutes('refused', { weights: { primary: 50, canary: 50 } }).catch((e: unknown) => e),
      verdict,
    );
    expect(error).toMatchObject({ code: 'AVIARY_ROUTER_UNAVAILABLE', name: 'RouteNotAcceptedError' });
    expect((error as Error).message).toBe(
      "HTTPRoute default/refused: Gateway default/public/http refused generation 2: Accepted=False, reason NotAllowedByListeners: no listener allows this route; check the Gateway's listeners (allowedRoutes, hostnames) and that its controller runs",
    );
  });

  it('gives up after the acceptance timeout when no gateway answers, and stops waiting when aborted', async () => {
    const router = g.routerFor({ acceptanceTimeoutMs: 1_500 });
    await router.reconcile(specOf('silent'));
    await expect(router.setRoutes('silent', { weights: { primary: 90, canary: 10 } })).rejects.toMatchObject({
      code: 'AVIARY_ROUTER_UNAVAILABLE',
      message: expect.stringContaining(
        'not accepted at generation 2 within 1500 ms: Gateway default/public/http: no status from its controller',
      ) as string,
    });
    const abort = new AbortController();
    const call = router.setRoutes('silent', { weights: { primary: 80, canary: 20 } }, abort.signal);
    setTimeout(() => abort.abort(new Error('rollout stopped')), 300);
    await expect(call).rejects.toThrow('rollout stopped');
  });

  it('after an acceptance timeout, only waits again for the same route: no second apply', async () => {
    // A gateway controller slower than the acceptance timeout (200 Canaries on a loaded
    // plane): re-applying the unchanged route cost a write per check and no new generation.
    const counted = new KubeApi({ kubeconfig: g.plane.kubeconfig });
    const router = new GatewayApiRouter(counted, {
      routeOf,
      acceptancePollMs: 100,
      acceptanceTimeoutMs: 500,
    });
    const applies = () =>
      counted
        .requestCounts()
        .filter((c) => c.verb === 'apply' && c.resource === 'httproutes')
        .reduce((sum, c) => sum + c.count, 0);
    const state: RouteState = { weights: { primary: 90, canary: 10 } };
    await router.reconcile(specOf('slow'));
    await expect(router.setRoutes('slow', state)).rejects.toMatchObject({
      code: 'AVIARY_ROUTER_UNAVAILABLE',
    });
    const afterFirst = applies();
    await g.withGateway('slow', async () => {
      await router.setRoutes('slow', state);
    });
    expect(applies()).toBe(afterFirst);
    expect((await router.getRoutes('slow')).weights).toEqual({ primary: 90, canary: 10 });
  });

  it('does not make a new generation when the routes are unchanged', async () => {
    const router = g.routerFor();
    await router.reconcile(
      specOf('unchanged', { timeoutMs: 10_000, pathPrefix: '/api', rewritePrefix: '/' }),
    );
    await g.withGateway('unchanged', async () => {
      const state: RouteState = {
        weights: { primary: 70, canary: 30 },
        abTesting: { version: 'canary', rules: [{ headers: [{ name: 'x-canary', exact: 'yes' }] }] },
      };
      await router.setRoutes('unchanged', state);
      const before = (await g.readRoute('unchanged')).metadata?.generation;
      await router.setRoutes('unchanged', state);
      await router.reconcile(
        specOf('unchanged', { timeoutMs: 10_000, pathPrefix: '/api', rewritePrefix: '/' }),
      );
      expect((await g.readRoute('unchanged')).metadata?.generation).toBe(before);
    });
  });

  it('neither reads, applies nor waits again for a route equal to the one applied and accepted; a change is applied', async () => {
    // The controller syncs routes whenever the versions' endpoints change, which a route to
    // Services does not depend on: with 200 Canaries each sync cost 2 applies and 3 reads.
    const counted = new KubeApi({ kubeconfig: g.plane.kubeconfig });
    const router = new GatewayApiRouter(counted, { routeOf, acceptancePollMs: 100 });
    const spec = specOf('quiet', { timeoutMs: 10_000 });
    const state: RouteState = { weights: { primary: 90, canary: 10 } };
    const requests = () => counted.requestCounts().reduce((sum, c) => sum + c.count, 0);
    await g.withGateway('quiet', async () => {
      await router.reconcile(spec);
      await router.setRoutes('quiet', state);
      const before = requests();
      for (let i = 0; i < 3; i++) {
        await router.reconcile(specOf('quiet', { timeoutMs: 10_000 }));
        await router.setRoutes('quiet', { weights: { primary: 90, canary: 10 } });
      }
      expect(requests()).toBe(before);
      await router.setRoutes('quiet', { weights: { primary: 50, canary: 50 } });
      expect(requests()).toBeGreaterThan(before);
      expect((await router.getRoutes('quiet')).weights).toEqual({ primary: 50, canary: 50 });
    });
  });
});
