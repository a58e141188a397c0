/**
 * The `gateway-api` router against the real test control plane (kube-apiserver 1.37 with
 * Gateway API v1.6 standard CRDs, so the CRDs' schemas and CEL rules judge every route it
 * writes). No gateway runs there: the test plays the gateway controller, writing the route's
 * `status.parents[]` through the status subresource as a controller would.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeApi } from '../../src/kubernetes/kube-api.js';
import { GatewayApiRouter } from '../../src/router/gateway-api/gateway-api-router.js';
import type { HttpRoute, HttpRouteOptions } from '../../src/router/gateway-api/http-route.js';
import type { AppRouteSpec, RouteState } from '../../src/router/traffic-router.js';
import { controlPlaneSkipReason } from '../cluster/binaries.js';
import { startControlPlane, type ControlPlane } from '../cluster/control-plane.js';
import { kubectl } from '../cluster/kubectl.js';
import { runRouterConformance } from '../conformance/router-conformance.js';

const unavailable = await controlPlaneSkipReason();
const NAMESPACE = 'default';
const CONTROLLER_NAME = 'example.com/test-gateway';
const GATEWAY = { name: 'public', sectionName: 'http' };

let plane: ControlPlane;
let api: KubeApi;

function specOf(app: string, extra: Partial<AppRouteSpec> = {}): AppRouteSpec {
  const service = (suffix: string) => ({ name: `${app}-${suffix}`, namespace: NAMESPACE, port: 80 });
  return {
    app,
    versions: [
      { name: 'primary', service: service('primary') },
      { name: 'canary', service: service('canary') },
    ],
    ...extra,
  };
}

const routeOf = (app: string): HttpRouteOptions => ({
  namespace: NAMESPACE,
  parentRefs: [GATEWAY],
  hostnames: [`${app}.example.com`],
});

function routerFor(options: { acceptanceTimeoutMs?: number } = {}): GatewayApiRouter {
  return new GatewayApiRouter(api, { routeOf, acceptancePollMs: 100, ...options });
}

const readRoute = async (name: string): Promise<HttpRoute> =>
  (await api.read<HttpRoute>({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    namespace: NAMESPACE,
    name,
  }))!;

type Verdict = { status: 'True' } | { status: 'False'; reason: string; message: string };

/**
 * Plays the gateway controller for one route: for each new generation it sees, it waits
 * `delayMs`, notes the generation in `answered`, then writes its verdict for that generation
 * to the route's status subresource.
 */
class TestGatewayController {
  readonly answered: number[] = [];
  readonly #route: string;
  readonly #verdict: Verdict;
  readonly #delayMs: number;
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(route: string, verdict: Verdict, delayMs = 0) {
    this.#route = route;
    this.#verdict = verdict;
    this.#delayMs = delayMs;
  }

  start(): this {
    this.#loop = this.#run();
    return this;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }

  async #run(): Promise<void> {
    let last = 0;
    while (!this.#stopped) {
      const route = await api.read<HttpRoute>({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        namespace: NAMESPACE,
        name: this.#route,
      });
      const generation = route?.metadata?.generation ?? 0;
      if (generation > last) {
        await new Promise((r) => setTimeout(r, this.#delayMs));
        this.answered.push(generation);
        await this.#write(generation);
        last = generation;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async #write(generation: number): Promise<void> {
    const verdict = this.#verdict;
    const condition = {
      type: 'Accepted',
      observedGeneration: generation,
      lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      ...(verdict.status === 'True'
        ? { status: 'True', reason: 'Accepted', message: 'Route is accepted' }
        : verdict),
    };
    const status = {
      status: {
        parents: [
          {
            parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', ...GATEWAY },
            controllerName: CONTROLLER_NAME,
            conditions: [condition],
          },
        ],
      },
    };
    await kubectl(plane.kubeconfig, [
      'patch',
      'httproute',
      this.#route,
      `--namespace=${NAMESPACE}`,
      '--subresource=status',
      '--type=merge',
      `--patch=${JSON.stringify(status)}`,
    ]);
  }
}

/** Runs `body` with a gateway controller that accepts every generation of `route`. */
async function withGateway<T>(
  route: string,
  body: (gateway: TestGatewayController) => Promise<T>,
  verdict: Verdict = { status: 'True' },
  delayMs = 0,
): Promise<T> {
  const gateway = new TestGatewayController(route, verdict, delayMs).start();
  try {
    return await body(gateway);
  } finally {
    await gateway.stop();
  }
}

describe.skipIf(unavailable !== undefined)('GatewayApiRouter on a real API server', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aviary-gateway-api-'));
    plane = await startControlPlane({ dir });
    api = new KubeApi({ kubeconfig: plane.kubeconfig });
    await api.apply({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: 'test' },
      spec: { controllerName: CONTROLLER_NAME },
    });
    await api.apply({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: GATEWAY.name, namespace: NAMESPACE },
      spec: {
        gatewayClassName: 'test',
        listeners: [
          {
            name: GATEWAY.sectionName,
            protocol: 'HTTP',
            port: 80,
            allowedRoutes: { namespaces: { from: 'Same' } },
          },
        ],
      },
    });
  }, 180_000);

  afterAll(async () => {
    await plane?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('steps weights 90/10 → 50/50 → 100/0, each read back from the API server', async () => {
    const router = routerFor();
    await router.reconcile(specOf('steps'));
    expect(await router.getRoutes('steps')).toEqual({ weights: { primary: 100, canary: 0 } });
    await withGateway('steps', async () => {
      for (const [primary, canary] of [
        [90, 10],
        [50, 50],
        [100, 0],
      ] as const) {
        await router.setRoutes('steps', { weights: { primary, canary } });
        expect(await router.getRoutes('steps')).toEqual({ weights: { primary, canary } });
        const stored = await readRoute('steps');
        expect(stored.spec.rules.at(-1)?.backendRefs.map((b) => [b.name, b.weight])).toEqual([
          ['steps-primary', primary],
          ['steps-canary', canary],
        ]);
      }
    });
  });

  it('waits for the gateway to accept the new generation before a step counts', async () => {
    const router = routerFor();
    await router.reconcile(specOf('waits'));
    // The gateway answers each generation a second after it sees it, noting it first.
    const answeredWhenResolved = await withGateway(
      'waits',
      async (gateway) => {
        await router.setRoutes('waits', { weights: { primary: 90, canary: 10 } });
        return [...gateway.answered];
      },
      { status: 'True' },
      1_000,
    );
    const stored = await readRoute('waits');
    expect(answeredWhenResolved).toContain(2);
    expect(stored.metadata?.generation).toBe(2);
    expect(stored.status?.parents?.[0]?.conditions?.[0]).toMatchObject({
      status: 'True',
      observedGeneration: 2,
    });
  });

  it('rejects with the parent’s reason when the gateway refuses the route', async () => {
    const router = routerFor();
    await router.reconcile(specOf('refused'));
    const verdict = {
      status: 'False',
      reason: 'NotAllowedByListeners',
      message: 'no listener allows this route',
    } as const;
    const error = await withGateway(
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
    const router = routerFor({ acceptanceTimeoutMs: 1_500 });
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
    const counted = new KubeApi({ kubeconfig: plane.kubeconfig });
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
    await withGateway('slow', async () => {
      await router.setRoutes('slow', state);
    });
    expect(applies()).toBe(afterFirst);
    expect((await router.getRoutes('slow')).weights).toEqual({ primary: 90, canary: 10 });
  });

  it('does not make a new generation when the routes are unchanged', async () => {
    const router = routerFor();
    await router.reconcile(
      specOf('unchanged', { timeoutMs: 10_000, pathPrefix: '/api', rewritePrefix: '/' }),
    );
    await withGateway('unchanged', async () => {
      const state: RouteState = {
        weights: { primary: 70, canary: 30 },
        abTesting: { version: 'canary', rules: [{ headers: [{ name: 'x-canary', exact: 'yes' }] }] },
      };
      await router.setRoutes('unchanged', state);
      const before = (await readRoute('unchanged')).metadata?.generation;
      await router.setRoutes('unchanged', state);
      await router.reconcile(
        specOf('unchanged', { timeoutMs: 10_000, pathPrefix: '/api', rewritePrefix: '/' }),
      );
      expect((await readRoute('unchanged')).metadata?.generation).toBe(before);
    });
  });

  it('neither reads, applies nor waits again for a route equal to the one applied and accepted; a change is applied', async () => {
    // The controller syncs routes whenever the versions' endpoints change, which a route to
    // Services does not depend on: with 200 Canaries each sync cost 2 applies and 3 reads.
    const counted = new KubeApi({ kubeconfig: plane.kubeconfig });
    const router = new GatewayApiRouter(counted, { routeOf, acceptancePollMs: 100 });
    const spec = specOf('quiet', { timeoutMs: 10_000 });
    const state: RouteState = { weights: { primary: 90, canary: 10 } };
    const requests = () => counted.requestCounts().reduce((sum, c) => sum + c.count, 0);
    await withGateway('quiet', async () => {
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

  it('writes A/B rules the API server accepts (its CEL rules included) and reads them back', async () => {
    const spec = specOf('ab', {
      pathPrefix: '/api',
      rewritePrefix: '/',
      timeoutMs: 30_000,
      retries: { attempts: 2, perTryTimeoutMs: 5_000 },
    });
    const ignored: string[] = [];
    const router = new GatewayApiRouter(api, {
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
    await withGateway('ab', () =>
      router.setRoutes('ab', { weights: { primary: 100, canary: 0 }, abTesting }),
    );
    expect(await router.getRoutes('ab')).toEqual({ weights: { primary: 100, canary: 0 }, abTesting });
    const rules = (await readRoute('ab')).spec.rules;
    expect(rules).toHaveLength(5);
    expect(rules[2]?.matches[0]?.headers).toEqual([
      { name: 'Cookie', type: 'RegularExpression', value: '^(.*;\\s*)?canary=always(;.*)?$' },
    ]);
    expect(rules.map((r) => r.timeouts)).toEqual(Array(5).fill({ request: '30s', backendRequest: '5s' }));
  });

  it('sets the mirror filter, then removes it', async () => {
    const router = routerFor();
    await router.reconcile(specOf('mirror'));
    const filters = async () => (await readRoute('mirror')).spec.rules.at(-1)?.filters;
    await withGateway('mirror', async () => {
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
    const router = routerFor();
    await router.reconcile(specOf('final'));
    await withGateway('final', () =>
      router.setRoutes('final', {
        weights: { primary: 40, canary: 60 },
        mirror: { version: 'canary', percent: 10 },
      }),
    );
    await routerFor().reconcile(specOf('final', { timeoutMs: 5_000 }));
    expect(await router.getRoutes('final')).toEqual({
      weights: { primary: 40, canary: 60 },
      mirror: { version: 'canary', percent: 10 },
    });
    await router.finalize('final');
    await expect(router.getRoutes('final')).rejects.toMatchObject({ code: 'AVIARY_ROUTE_UNKNOWN_APP' });
    const stored = await readRoute('final');
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
    await kubectl(plane.kubeconfig, ['apply', '-f', '-'], JSON.stringify(foreign));
    const router = routerFor();
    await expect(router.reconcile(specOf('foreign'))).rejects.toMatchObject({
      code: 'AVIARY_ROUTER_CONFIG',
      message: expect.stringContaining(
        'HTTPRoute default/foreign exists but was not created by Aviary',
      ) as string,
    });
    const stored = await readRoute('foreign');
    expect(stored.spec.rules[0]?.backendRefs.map((b) => b.name)).toEqual(['someone-else']);
    expect(stored.metadata?.generation).toBe(1);
  });

  // The shared cases: all but two send requests through a data plane, and run where one
  // runs; here the route's effect is checked above by reading it back.
  runRouterConformance({
    name: 'gateway-api',
    create: () =>
      Promise.resolve({
        router: routerFor(),
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
