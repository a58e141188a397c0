/**
 * The operator's end-to-end fixture on the real test control plane: Aviary's CRDs, a
 * Gateway whose acceptance of routes is played by gateway-controller.ts, a target Deployment
 * `podinfo` and its Canary, and reads of what a user would look at (the Canary's status, the
 * HTTPRoute's weights, the Canary's Events).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startOperator, type Operator, type OperatorOptions } from '../../src/operator/operator.js';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from '../cluster/control-plane.js';
import { kubectl } from '../cluster/kubectl.js';
import { pollFor } from '../support/poll.js';
import { startGatewayController, type GatewayController } from './gateway-controller.js';

const CRDS = fileURLToPath(new URL('../../deploy/kubernetes/crds', import.meta.url));
const SHIPPED_OPERATOR = fileURLToPath(new URL('../../deploy/kubernetes/operator', import.meta.url));
export const NS = 'default';

const gateway = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name: 'edge', namespace: NS },
  spec: { gatewayClassName: 'test', listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }] },
};

/** The target Deployment `podinfo` running `image`. */
export function targetDeployment(image: string) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'podinfo', namespace: NS },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'podinfo' } },
      template: {
        metadata: { labels: { app: 'podinfo' } },
        spec: { containers: [{ name: 'podinfo', image, ports: [{ containerPort: 9898 }] }] },
      },
    },
  };
}

/** The Canary `podinfo` with `analysis`. */
export function canaryOf(analysis: Record<string, unknown>) {
  return {
    apiVersion: 'aviary.dev/v1alpha1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: NS },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
      service: { port: 9898, gatewayRefs: [{ name: 'edge' }] },
      analysis,
    },
  };
}

export interface CanaryStatus {
  phase?: string;
  canaryWeight?: number;
  failedChecks?: number;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  judge?: { decision?: string; summary?: string };
}

/** A control plane with a Gateway, the target and its Canary, and an operator over them. */
export class OperatorFixture {
  plane!: ControlPlane;
  operator!: Operator;
  /** The shipped ServiceAccount's kubeconfig, once {@link asShippedServiceAccount} made it. */
  shippedKubeconfig = '';
  private dir!: string;
  private gatewayController: GatewayController | undefined;
  private last: CanaryStatus = {};

  /** Starts the plane and the gateway, applies the target and the Canary, then `before` (e.g. traffic). */
  async start(
    analysis: Record<string, unknown>,
    operatorOptions: Partial<OperatorOptions> = {},
    before?: (fixture: OperatorFixture) => Promise<Partial<OperatorOptions>>,
    {
      answerRoutes = true,
      plane = {},
    }: { answerRoutes?: boolean; plane?: Pick<ControlPlaneOptions, 'apiServerArgs'> } = {},
  ): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), 'aviary-operator-'));
    this.plane = await startControlPlane({ dir: join(this.dir, 'cluster'), extraCrds: [CRDS], ...plane });
    if (answerRoutes) this.answerRoutes();
    await this.apply(gateway);
    await this.apply(targetDeployment('example.invalid/podinfo:1'));
    await this.apply(canaryOf(analysis));
    const more = (await before?.(this)) ?? {};
    this.operator = await startOperator({
      kubeconfig: this.plane.kubeconfig,
      namespace: NS,
      stateDir: join(this.dir, 'state'),
      minAnalysisIntervalMs: 1_000,
      acceptanceTimeoutMs: 10_000,
      maxTickMs: 250,
      ...operatorOptions,
      ...more,
    });
  }

  /** Starts the simulated gateway controller: HTTPRoutes get `Accepted` from now on. */
  answerRoutes(): void {
    this.gatewayController ??= startGatewayController(this.plane.kubeconfig, NS);
  }

  /**
   * Installs the shipped namespace and RBAC (deploy/kubernetes/operator) and resolves the
   * operator options that run it as the shipped ServiceAccount, with nothing but its token;
   * for `start`'s `before`. The kubeconfig's path is kept in {@link shippedKubeconfig}.
   */
  async asShippedServiceAccount(): Promise<Partial<OperatorOptions>> {
    const files = ['00-namespace.yaml', '10-rbac.yaml'].flatMap((file) => [
      '-f',
      join(SHIPPED_OPERATOR, file),
    ]);
    await this.run(['apply', ...files]);
    this.shippedKubeconfig = await this.serviceAccountKubeconfig('aviary-system', 'aviary-operator');
    return { kubeconfig: this.shippedKubeconfig };
  }

  /**
   * A kubeconfig whose only credential is a bearer token of the ServiceAccount
   * `namespace/name`, from the TokenRequest API as a pod's projected token is (no client
   * certificate, nothing of the admin's): the server URL, its CA and that token.
   */
  async serviceAccountKubeconfig(namespace: string, name: string): Promise<string> {
    const token = (await this.run(['create', 'token', name, '-n', namespace, '--duration=1h'])).trim();
    const path = join(this.dir, `${namespace}-${name}.kubeconfig`);
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'aviary-test',
          cluster: { server: this.plane.server, 'certificate-authority': this.plane.caFile },
        },
      ],
      users: [{ name, user: { token } }],
      contexts: [{ name, context: { cluster: 'aviary-test', user: name, namespace: NS } }],
      'current-context': name,
    };
    // JSON is YAML, which is what kubectl and @kubernetes/client-node read.
    await writeFile(path, JSON.stringify(config, null, 2), { mode: 0o600 });
    return path;
  }

  async stop(): Promise<void> {
    await this.operator?.close();
    await this.gatewayController?.stop();
    await this.plane?.stop();
    if (this.dir !== undefined) await rm(this.dir, { recursive: true, force: true });
  }

  run(args: readonly string[], stdin?: string): Promise<string> {
    return kubectl(this.plane.kubeconfig, args, stdin);
  }

  apply(document: unknown): Promise<string> {
    return this.run(['apply', '-f', '-'], JSON.stringify(document));
  }

  async getJson<T>(args: readonly string[]): Promise<T> {
    return JSON.parse(await this.run(['get', ...args, '-o', 'json'])) as T;
  }

  async status(): Promise<CanaryStatus> {
    return (await this.getJson<{ status?: CanaryStatus }>(['canary', 'podinfo'])).status ?? {};
  }

  /** The HTTPRoute's default rule: weight per Service. */
  async weights(): Promise<Record<string, number>> {
    const route = await this.getJson<{
      spec: { rules: { backendRefs: { name: string; weight: number }[] }[] };
    }>(['httproute', 'podinfo']).catch(() => undefined);
    return Object.fromEntries((route?.spec.rules.at(-1)?.backendRefs ?? []).map((r) => [r.name, r.weight]));
  }

  /** Reasons of the Kubernetes Events on the Canary, oldest first. */
  async eventReasons(): Promise<string[]> {
    const events = await this.getJson<{ items: { reason: string }[] }>([
      'events',
      '--field-selector',
      'involvedObject.name=podinfo,involvedObject.kind=Canary',
    ]);
    return events.items.map((e) => e.reason);
  }

  /**
   * The weights the rollout advanced to, from its `WeightAdvanced` Events in the order they
   * happened (each Event's name carries its time): the record of every step taken, which a
   * poll of the route can miss while the API server is down.
   */
  async advances(): Promise<number[]> {
    const events = await this.getJson<{
      items: { reason: string; message: string; metadata: { name: string } }[];
    }>([
      'events',
      '--field-selector',
      'involvedObject.name=podinfo,involvedObject.kind=Canary,reason=WeightAdvanced',
    ]);
    return events.items
      .map((e) => ({
        at: parseInt(e.metadata.name.split('.')[1] ?? '0', 16),
        weight: Number(/weight (\d+)/.exec(e.message)?.[1]),
      }))
      .sort((a, b) => a.at - b.at)
      .map((e) => e.weight);
  }

  /** Waits for the Canary's phase, saying where it stands when it never gets there. */
  phase(want: string, timeoutMs = 120_000): Promise<true> {
    return pollFor(
      `Canary phase ${want}`,
      async () => ((this.last = await this.status()).phase === want ? true : undefined),
      () =>
        `status ${JSON.stringify({ ...this.last, aviary: undefined })}; events: ${this.operator.controller
          .events('podinfo')
          .map((e) => `${e.reason}: ${e.message}`)
          .slice(-8)
          .join(' | ')}`,
      timeoutMs,
    );
  }

  /** Canary weights the HTTPRoute went through while `during` runs, in order, repeats dropped. */
  async weightsDuring(during: () => Promise<unknown>): Promise<number[]> {
    const seen: number[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const weight = (await this.weights())['podinfo-canary'];
        if (weight !== undefined && seen.at(-1) !== weight) seen.push(weight);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    try {
      await during();
    } finally {
      watching = false;
      await watcher;
    }
    return seen;
  }
}
