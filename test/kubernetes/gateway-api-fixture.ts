/**
 * The `gateway-api` router's suites on the real test control plane (kube-apiserver 1.37 with
 * Gateway API v1.6 standard CRDs, so the CRDs' schemas and CEL rules judge every route it
 * writes). No gateway runs there: the test plays the gateway controller, writing the route's
 * `status.parents[]` through the status subresource as a controller would.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { KubeApi } from '../../src/kubernetes/kube-api.js';
import { GatewayApiRouter } from '../../src/router/gateway-api/gateway-api-router.js';
import type { HttpRoute, HttpRouteOptions } from '../../src/router/gateway-api/http-route.js';
import type { AppRouteSpec } from '../../src/router/traffic-router.js';
import { controlPlaneSkipReason } from '../cluster/binaries.js';
import { startControlPlane, type ControlPlane } from '../cluster/control-plane.js';
import { kubectl } from '../cluster/kubectl.js';

const unavailable = await controlPlaneSkipReason();
/** Where every route of the suites lives. */
export const NAMESPACE = 'default';
const CONTROLLER_NAME = 'example.com/test-gateway';
/** The Gateway every route attaches to. */
export const GATEWAY = { name: 'public', sectionName: 'http' };

/** An app's route spec: a primary and a canary Service, port 80, plus `extra`. */
export function specOf(app: string, extra: Partial<AppRouteSpec> = {}): AppRouteSpec {
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

/** Where an app's HTTPRoute goes: the namespace, the Gateway, `<app>.example.com`. */
export const routeOf = (app: string): HttpRouteOptions => ({
  namespace: NAMESPACE,
  parentRefs: [GATEWAY],
  hostnames: [`${app}.example.com`],
});

/** What the test's gateway controller answers: accepted, or refused with a reason. */
export type Verdict = { status: 'True' } | { status: 'False'; reason: string; message: string };

/**
 * Plays the gateway controller for one route: for each new generation it sees, it waits
 * `delayMs`, notes the generation in `answered`, then writes its verdict for that generation
 * to the route's status subresource.
 */
export class TestGatewayController {
  readonly #api: KubeApi;
  readonly #kubeconfig: string;
  readonly answered: number[] = [];
  readonly #route: string;
  readonly #verdict: Verdict;
  readonly #delayMs: number;
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(api: KubeApi, kubeconfig: string, route: string, verdict: Verdict, delayMs = 0) {
    this.#api = api;
    this.#kubeconfig = kubeconfig;
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
      const route = await this.#api.read<HttpRoute>({
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
    await kubectl(this.#kubeconfig, [
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

/** A control plane with the test's GatewayClass and Gateway, and the helpers of the suites. */
export class GatewayPlane {
  plane!: ControlPlane;
  api!: KubeApi;

  /** A router on this plane, polling acceptance every 100 ms. */
  routerFor(options: { acceptanceTimeoutMs?: number } = {}): GatewayApiRouter {
    return new GatewayApiRouter(this.api, { routeOf, acceptancePollMs: 100, ...options });
  }

  /** The HTTPRoute `name` as the API server has it. */
  async readRoute(name: string): Promise<HttpRoute> {
    return (await this.api.read<HttpRoute>({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      namespace: NAMESPACE,
      name,
    }))!;
  }

  /** Runs `body` with a gateway controller that answers every generation of `route` with `verdict`. */
  async withGateway<T>(
    route: string,
    body: (gateway: TestGatewayController) => Promise<T>,
    verdict: Verdict = { status: 'True' },
    delayMs = 0,
  ): Promise<T> {
    const gateway = new TestGatewayController(
      this.api,
      this.plane.kubeconfig,
      route,
      verdict,
      delayMs,
    ).start();
    try {
      return await body(gateway);
    } finally {
      await gateway.stop();
    }
  }
}

/**
 * A `describe` of `name` on its own control plane with the GatewayClass and Gateway in place,
 * skipped (saying why) when the control plane cannot start here.
 */
export function describeOnGatewayPlane(name: string, body: (g: GatewayPlane) => void): void {
  describe.skipIf(unavailable !== undefined)(name, () => {
    const g = new GatewayPlane();
    let dir: string | undefined;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'aviary-gateway-api-'));
      g.plane = await startControlPlane({ dir });
      g.api = new KubeApi({ kubeconfig: g.plane.kubeconfig });
      await g.api.apply({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'GatewayClass',
        metadata: { name: 'test' },
        spec: { controllerName: CONTROLLER_NAME },
      });
      await g.api.apply({
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
      await g.plane?.stop();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    }, 60_000);

    body(g);
  });
}
