/**
 * The `deployment` target on the real test control plane (Deployments → ReplicaSets → pods
 * made Ready by KWOK): the primary created from the target's template and owned by the
 * Canary, the target Deployment scaled as the canary, a new template as a new revision,
 * promotion, a fresh baseline, an unschedulable version's reason, and garbage collection of
 * everything owned when the owner goes, with the user's Deployment left alone.
 */
import type { KubernetesObject, V1Deployment, V1Service } from '@kubernetes/client-node';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentSpec } from '../../src/config/app-deployment.js';
import { KubeApi } from '../../src/kubernetes/kube-api.js';
import { DeploymentTarget } from '../../src/target/kubernetes/deployment-target.js';
import type { VersionRole, VersionStatus } from '../../src/target/target.js';
import { controlPlaneSkipReason } from '../cluster/binaries.js';
import { startControlPlane, type ControlPlane } from '../cluster/control-plane.js';
import { kubectl } from '../cluster/kubectl.js';
import { pollFor } from '../support/poll.js';

const unavailable = await controlPlaneSkipReason();
const NS = 'default';

function targetDeployment(image: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: NS },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image, ports: [{ containerPort: 8080 }] }], ...extra },
      },
    },
  };
}

describe.skipIf(unavailable !== undefined)('DeploymentTarget on a real API server', () => {
  let plane: ControlPlane;
  let dir: string;
  let api: KubeApi;
  let target: DeploymentTarget;
  let owner: { apiVersion: string; kind: string; name: string; uid: string };

  /** The spec the operator would build from the target Deployment as the API server holds it. */
  async function specOfTarget(replicas: number): Promise<DeploymentSpec> {
    const live = await api.read<V1Deployment>({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: NS,
      name: 'web',
    });
    return {
      kind: 'deployment',
      namespace: NS,
      targetName: 'web',
      selector: live!.spec!.selector.matchLabels!,
      template: live!.spec!.template as unknown as Record<string, unknown>,
      replicas,
      service: { name: 'web', port: 80, targetPort: 8080, portName: 'http' },
      owner,
    };
  }

  /** The Service `name` in the test namespace, read from the API server. */
  const service = (name: string) =>
    api.read<V1Service>({ apiVersion: 'v1', kind: 'Service', namespace: NS, name });
  const readyAt = (role: VersionRole, revision: string, replicas: number) =>
    pollFor(
      `${role} ${revision} ready ${replicas}`,
      async () => {
        const status = await target.status('web', role);
        return status?.revision === revision &&
          status.readyReplicas === replicas &&
          status.endpoints.length === replicas
          ? status
          : undefined;
      },
      undefined,
      60_000,
    );

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aviary-deployment-target-'));
    plane = await startControlPlane({ dir });
    api = new KubeApi({ kubeconfig: plane.kubeconfig });
    const made: KubernetesObject = await api.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'web-canary-owner', namespace: NS },
    });
    owner = { apiVersion: 'v1', kind: 'ConfigMap', name: 'web-canary-owner', uid: made.metadata!.uid! };
    await kubectl(
      plane.kubeconfig,
      ['apply', '-f', '-'],
      JSON.stringify(targetDeployment('example.invalid/web:1')),
    );
    target = new DeploymentTarget({ api, namespace: NS });
    await target.synced();
  }, 180_000);

  afterAll(async () => {
    await target?.close();
    await plane?.stop();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  let v1: string;
  let primary: VersionStatus;

  it('creates the primary from the target template, owned, with suffixed labels and its Services', async () => {
    const spec = await specOfTarget(2);
    v1 = target.identify(spec).revision;
    await target.ensureVersion('web', 'primary', spec);
    primary = await readyAt('primary', v1, 2);
    expect(primary.endpoints.every((e) => /^10\.244\.\d+\.\d+:8080$/.test(e))).toBe(true);
    const made = await api.read<V1Deployment>({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: NS,
      name: 'web-primary',
    });
    expect(made!.metadata!.ownerReferences).toEqual([
      expect.objectContaining({ uid: owner.uid, controller: true }),
    ]);
    expect(made!.spec!.selector.matchLabels).toEqual({ app: 'web-primary' });
    const apex = await service('web');
    const primarySvc = await service('web-primary');
    expect(apex!.spec!.selector).toEqual({ app: 'web-primary' });
    expect(primarySvc!.spec!.ports).toEqual([
      expect.objectContaining({ port: 80, targetPort: 8080, name: 'http' }),
    ]);
    // The route names the canary's Service from initialisation (weight 0): it exists already.
    const canarySvc = await service('web-canary');
    expect(canarySvc!.spec!.selector).toEqual({ app: 'web' });
  });

  it('does not apply an unchanged Service again when a version is ensured again', async () => {
    // A rollout ensures its versions at every start and step: with 200 Canaries, 3 Service
    // applies per rollout that changed nothing.
    const services = () =>
      api.requestCounts().find((c) => c.verb === 'apply' && c.resource === 'services')?.count ?? 0;
    const before = services();
    await target.ensureVersion('web', 'primary', await specOfTarget(2));
    expect(services()).toBe(before);
  });

  it('scales the target as the canary, and reads a new template as a new revision', async () => {
    await target.ensureVersion('web', 'canary', await specOfTarget(1));
    await readyAt('canary', v1, 1);
    await kubectl(
      plane.kubeconfig,
      ['apply', '-f', '-'],
      JSON.stringify(targetDeployment('example.invalid/web:2')),
    );
    const v2spec = await specOfTarget(2);
    const v2 = target.identify(v2spec).revision;
    expect(v2).not.toBe(v1);
    await target.ensureVersion('web', 'canary', v2spec);
    const canary = await readyAt('canary', v2, 2);
    expect(canary.endpoints).toHaveLength(2);
    // The primary's pods never match the target's selector.
    expect(canary.endpoints.some((e) => primary.endpoints.includes(e))).toBe(false);
    const canarySvc = await service('web-canary');
    expect(canarySvc!.spec!.selector).toEqual({ app: 'web' });
  });

  it('promotes the canary template to the primary, keeping its replicas; stopping the canary scales the target to 0', async () => {
    const v2 = target.identify(await specOfTarget(2)).revision;
    await target.promote('web');
    await readyAt('primary', v2, 2);
    const image = (await api.read<V1Deployment>({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: NS,
      name: 'web-primary',
    }))!.spec!.template.spec!.containers[0]!.image;
    expect(image).toBe('example.invalid/web:2');
    await target.stop('web', 'canary');
    await pollFor(
      'the target scaled to 0',
      async () =>
        (await api.read<V1Deployment>({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          namespace: NS,
          name: 'web',
        }))!.spec!.replicas === 0
          ? true
          : undefined,
      undefined,
      30_000,
    );
  });

  it('runs a fresh baseline beside them, and says why a version whose pods cannot be scheduled is not ready', async () => {
    const spec = await specOfTarget(1);
    await target.ensureVersion('web', 'baseline', spec);
    await readyAt('baseline', target.identify(spec).revision, 1);
    await kubectl(
      plane.kubeconfig,
      ['apply', '-f', '-'],
      JSON.stringify(targetDeployment('example.invalid/web:3', { nodeSelector: { 'no-such-node': 'true' } })),
    );
    const stuck = await specOfTarget(1);
    await target.ensureVersion('web', 'canary', stuck);
    const status = await pollFor(
      'the unschedulable reason',
      async () => {
        const s = await target.status('web', 'canary');
        return s?.lastError?.includes('Unschedulable') === true ? s : undefined;
      },
      undefined,
      60_000,
    );
    expect(status.readyReplicas).toBe(0);
    expect(status.lastError).toMatch(/^pod web-[a-z0-9-]+: Unschedulable: /);
  });

  it('refuses a missing target Deployment by name', async () => {
    const spec = { ...(await specOfTarget(1)), targetName: 'absent' };
    await expect(target.ensureVersion('absent', 'canary', spec)).rejects.toThrow(
      /^app absent: the target Deployment default\/absent does not exist/,
    );
  });

  it('leaves garbage collection of what it created to the owner, and the user’s Deployment alone', async () => {
    await api.delete(
      { apiVersion: 'v1', kind: 'ConfigMap', namespace: NS, name: 'web-canary-owner' },
      owner.uid,
    );
    await pollFor(
      'web-primary, web-baseline and the Services collected',
      async () => {
        const left = await Promise.all(
          [
            ['apps/v1', 'Deployment', 'web-primary'],
            ['apps/v1', 'Deployment', 'web-baseline'],
            ['v1', 'Service', 'web'],
            ['v1', 'Service', 'web-primary'],
          ].map(([apiVersion, kind, name]) =>
            api.read({ apiVersion: apiVersion!, kind: kind!, namespace: NS, name: name! }),
          ),
        );
        return left.every((o) => o === undefined) ? true : undefined;
      },
      undefined,
      60_000,
    );
    expect(
      await api.read({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: NS, name: 'web' }),
    ).toBeDefined();
  });
});
