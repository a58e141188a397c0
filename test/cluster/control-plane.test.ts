/**
 * The test control plane itself (issue 13, step 1): built from the Go module proxy, started
 * on loopback, it runs Deployments to Ready pods (KWOK as the kubelet), fills EndpointSlices,
 * serves the Gateway API CRDs, survives an API server restart, and stops without leftovers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollFor } from '../support/poll.js';
import { controlPlaneSkipReason } from './binaries.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';
import { kubectl } from './kubectl.js';

const unavailable = await controlPlaneSkipReason();

function deployment(name: string, replicas: number): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name: 'app', image: 'example.invalid/app:1', ports: [{ containerPort: 8080 }] }],
        },
      },
    },
  });
}

const service = JSON.stringify({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'default' },
  spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
});

describe.skipIf(unavailable !== undefined)('the test control plane', () => {
  let plane: ControlPlane;
  let dir: string;
  const get = async <T>(args: string[]): Promise<T> =>
    JSON.parse(await kubectl(plane.kubeconfig, ['get', ...args, '-o', 'json'])) as T;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aviary-cluster-test-'));
    plane = await startControlPlane({ dir });
  }, 180_000);

  afterAll(async () => {
    await plane?.stop();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('serves a real API server of the pinned version, with Gateway API v1 CRDs established', async () => {
    const version = JSON.parse(await kubectl(plane.kubeconfig, ['version', '-o', 'json'])) as {
      serverVersion: { gitVersion: string };
    };
    expect(version.serverVersion.gitVersion).toMatch(/^v1\.37\./);
    const crd = await get<{ status: { conditions: { type: string; status: string }[] } }>([
      'crd',
      'httproutes.gateway.networking.k8s.io',
    ]);
    expect(crd.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'Established', status: 'True' }),
    );
    expect(plane.server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('runs a Deployment to Ready pods with IPs, and fills the Service EndpointSlice', async () => {
    await kubectl(plane.kubeconfig, ['apply', '-f', '-'], deployment('web', 3));
    await kubectl(plane.kubeconfig, ['apply', '-f', '-'], service);
    type Deployment = { status: { readyReplicas?: number; availableReplicas?: number } };
    await pollFor(
      'web ready 3/3',
      async () =>
        (await get<Deployment>(['deployment', 'web'])).status.availableReplicas === 3 ? true : undefined,
      undefined,
      90_000,
    );
    type Pods = { items: { spec: { nodeName: string }; status: { phase: string; podIP: string } }[] };
    const pods = await get<Pods>(['pods', '-l', 'app=web']);
    expect(pods.items).toHaveLength(3);
    for (const pod of pods.items) {
      expect(pod.spec.nodeName).toBe('kwok-node-0');
      expect(pod.status.phase).toBe('Running');
      expect(pod.status.podIP).toMatch(/^10\.244\./);
    }
    type Slices = { items: { endpoints?: { addresses: string[]; conditions: { ready: boolean } }[] }[] };
    const ready = await pollFor(
      'the EndpointSlice of web with 3 ready endpoints',
      async () => {
        const slices = await get<Slices>(['endpointslices', '-l', 'kubernetes.io/service-name=web']);
        const addresses = slices.items.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions.ready);
        return addresses.length === 3 ? addresses : undefined;
      },
      undefined,
      60_000,
    );
    expect(ready.flatMap((e) => e.addresses).sort()).toEqual(pods.items.map((p) => p.status.podIP).sort());
  });

  it('scales a Deployment to 0 and garbage-collects its ReplicaSets when it is deleted', async () => {
    await kubectl(plane.kubeconfig, ['apply', '-f', '-'], deployment('gone', 2));
    await kubectl(plane.kubeconfig, ['scale', 'deployment/gone', '--replicas=0']);
    await kubectl(plane.kubeconfig, ['delete', 'deployment/gone', '--wait=true']);
    await pollFor(
      'the ReplicaSets of gone collected',
      async () =>
        (await get<{ items: unknown[] }>(['rs', '-l', 'app=gone'])).items.length === 0 ? true : undefined,
      undefined,
      60_000,
    );
  });

  it('answers again after its API server is restarted on the same port and data', async () => {
    await plane.restartApiServer();
    const deployment = await get<{ status: { availableReplicas: number } }>(['deployment', 'web']);
    expect(deployment.status.availableReplicas).toBe(3);
  });
});

describe.skipIf(unavailable === undefined)('the test control plane (not built here)', () => {
  it.skip(`is skipped: ${unavailable ?? ''}`, () => undefined);
});
