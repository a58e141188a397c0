/**
 * The operator end to end on the real test control plane (issue 13, case a): a Canary over a
 * Deployment gets its primary; a new image on the target is rolled out by stepping the
 * HTTPRoute's weights 10 → 50 at the analysis interval, then promoted: the primary runs the new
 * template, the target is scaled to 0, the weights are 100/0, the Canary's status and Events
 * say so. The gateway's acceptance of each route change is played by test/kubernetes/
 * gateway-controller.ts; everything else is the real API server and controllers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOperator, type Operator } from '../../src/operator/operator.js';
import { controlPlaneUnavailable } from '../cluster/binaries.js';
import { startControlPlane, type ControlPlane } from '../cluster/control-plane.js';
import { kubectl } from '../cluster/kubectl.js';
import { pollFor } from '../support/poll.js';
import { startGatewayController, type GatewayController } from './gateway-controller.js';

const unavailable = await controlPlaneUnavailable();
const CRDS = fileURLToPath(new URL('../../deploy/kubernetes/crds', import.meta.url));

const gateway = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name: 'edge', namespace: 'default' },
  spec: { gatewayClassName: 'test', listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }] },
};

const target = (image: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'podinfo', namespace: 'default' },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'podinfo' } },
    template: {
      metadata: { labels: { app: 'podinfo' } },
      spec: { containers: [{ name: 'podinfo', image, ports: [{ containerPort: 9898 }] }] },
    },
  },
});

const canary = {
  apiVersion: 'aviary.dev/v1alpha1',
  kind: 'Canary',
  metadata: { name: 'podinfo', namespace: 'default' },
  spec: {
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
    service: { port: 9898, gatewayRefs: [{ name: 'edge' }] },
    analysis: { interval: '10s', threshold: 2, maxWeight: 50, stepWeight: 10, judge: { enabled: false } },
  },
};

interface CanaryStatus {
  phase?: string;
  canaryWeight?: number;
  conditions?: { type: string; status: string }[];
}

describe.skipIf(unavailable !== undefined)('the operator on a real API server', () => {
  let plane: ControlPlane;
  let dir: string;
  let gatewayController: GatewayController;
  let operator: Operator;
  const run = (args: readonly string[], stdin?: string) => kubectl(plane.kubeconfig, args, stdin);
  const getJson = async <T>(args: readonly string[]): Promise<T> =>
    JSON.parse(await run(['get', ...args, '-o', 'json'])) as T;
  const status = async () => (await getJson<{ status?: CanaryStatus }>(['canary', 'podinfo'])).status ?? {};
  const weights = async () => {
    const route = await getJson<{ spec: { rules: { backendRefs: { name: string; weight: number }[] }[] } }>([
      'httproute',
      'podinfo',
    ]).catch(() => undefined);
    const refs = route?.spec.rules.at(-1)?.backendRefs ?? [];
    return Object.fromEntries(refs.map((r) => [r.name, r.weight]));
  };
  let lastStatus: CanaryStatus = {};
  const phase = (want: string, timeoutMs = 120_000) =>
    pollFor(
      `Canary phase ${want}`,
      async () => ((lastStatus = await status()).phase === want ? true : undefined),
      () =>
        `status ${JSON.stringify({ ...lastStatus, aviary: undefined })}; events: ${operator.controller
          .events('podinfo')
          .map((e) => `${e.reason}: ${e.message}`)
          .slice(-8)
          .join(' | ')}`,
      timeoutMs,
    );

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aviary-operator-'));
    plane = await startControlPlane({ dir: join(dir, 'cluster'), extraCrds: [CRDS] });
    gatewayController = startGatewayController(plane.kubeconfig, 'default');
    await run(['apply', '-f', '-'], JSON.stringify(gateway));
    await run(['apply', '-f', '-'], JSON.stringify(target('example.invalid/podinfo:1')));
    await run(['apply', '-f', '-'], JSON.stringify(canary));
    operator = await startOperator({
      kubeconfig: plane.kubeconfig,
      namespace: 'default',
      stateDir: join(dir, 'state'),
      minAnalysisIntervalMs: 1_000,
      acceptanceTimeoutMs: 10_000,
      maxTickMs: 250,
    });
  }, 180_000);

  afterAll(async () => {
    await operator?.close();
    await gatewayController?.stop();
    await plane?.stop();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('initializes: the primary runs the target template, the apex Service selects it, all traffic on it', async () => {
    await phase('Initialized');
    const primary = await getJson<{
      status: { readyReplicas?: number };
      spec: { template: { spec: { containers: { image: string }[] } } };
    }>(['deployment', 'podinfo-primary']);
    expect(primary.spec.template.spec.containers[0]!.image).toBe('example.invalid/podinfo:1');
    const apex = await getJson<{ spec: { selector: Record<string, string> } }>(['service', 'podinfo']);
    expect(apex.spec.selector).toEqual({ app: 'podinfo-primary' });
    expect(await weights()).toMatchObject({ 'podinfo-primary': 100 });
    const conditions = (await status()).conditions ?? [];
    expect(conditions).toContainEqual(expect.objectContaining({ type: 'Ready', status: 'True' }));
  });

  it('rolls out a new image step by step to 50 %, promotes it and scales the target to 0', async () => {
    const seen: number[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const canaryWeight = (await weights())['podinfo-canary'];
        if (canaryWeight !== undefined && seen.at(-1) !== canaryWeight) seen.push(canaryWeight);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    await run(['set', 'image', 'deployment/podinfo', 'podinfo=example.invalid/podinfo:2']);
    await phase('Progressing', 60_000);
    await phase('Succeeded', 150_000);
    watching = false;
    await watcher;
    expect(seen.filter((w) => w > 0)).toEqual([10, 20, 30, 40, 50]);
    expect(await weights()).toMatchObject({ 'podinfo-primary': 100, 'podinfo-canary': 0 });
    const primary = await getJson<{ spec: { template: { spec: { containers: { image: string }[] } } } }>([
      'deployment',
      'podinfo-primary',
    ]);
    expect(primary.spec.template.spec.containers[0]!.image).toBe('example.invalid/podinfo:2');
    const targetNow = await getJson<{ spec: { replicas: number } }>(['deployment', 'podinfo']);
    expect(targetNow.spec.replicas).toBe(0);
    const events = await getJson<{ items: { reason: string; involvedObject: { kind: string } }[] }>([
      'events',
      '--field-selector',
      'involvedObject.name=podinfo,involvedObject.kind=Canary',
    ]);
    const reasons = events.items.map((e) => e.reason);
    expect(reasons, reasons.join(' ')).toEqual(
      expect.arrayContaining(['NewRevision', 'WeightAdvanced', 'Promoting', 'Finalising', 'Succeeded']),
    );
    const table = await run(['get', 'canary', 'podinfo']);
    expect(table).toMatch(/podinfo\s+Succeeded\s+0\s+0/);
  });
});
