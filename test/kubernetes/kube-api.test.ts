/**
 * The operator's API client against the real test control plane: server-side apply with
 * Aviary's field manager, reads and lists, 404 as undefined, deletes guarded by uid, watch,
 * the count of requests by verb and resource, and caches that refuse to sync over a list the
 * API server refused.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject, V1ConfigMap } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { FIELD_MANAGER, KubeApi } from '../../src/kubernetes/kube-api.js';
import { ObjectCacheOf } from '../../src/kubernetes/object-cache.js';
import { kubectl } from '../cluster/kubectl.js';
import { AviaryError } from '../../src/errors.js';
import { controlPlaneSkipReason } from '../cluster/binaries.js';
import { startControlPlane, type ControlPlane } from '../cluster/control-plane.js';

const unavailable = await controlPlaneSkipReason();

const configMap = (
  name: string,
  data: Record<string, string>,
): KubernetesObject & { data: Record<string, string> } => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'default', labels: { suite: 'kube-api' } },
  data,
});

describe.skipIf(unavailable !== undefined)('KubeApi on a real API server', () => {
  let plane: ControlPlane;
  let dir: string;
  let api: KubeApi;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aviary-kube-api-'));
    plane = await startControlPlane({ dir });
    api = new KubeApi({ kubeconfig: plane.kubeconfig });
  }, 180_000);

  afterAll(async () => {
    await plane?.stop();
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('applies server-side as the aviary field manager, and applies again idempotently', async () => {
    const first = await api.apply(configMap('one', { a: '1' }));
    expect(first.metadata?.managedFields?.map((f) => f.manager)).toContain(FIELD_MANAGER);
    const again = await api.apply(configMap('one', { a: '1' }));
    expect(again.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion);
    const changed = await api.apply(configMap('one', { a: '2' }));
    expect((changed as { data?: Record<string, string> }).data).toEqual({ a: '2' });
  });

  it('reads a missing object as undefined and lists by label', async () => {
    expect(
      await api.read({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'none' }),
    ).toBeUndefined();
    await api.apply(configMap('two', { b: '1' }));
    const names = (await api.list('v1', 'ConfigMap', 'default', 'suite=kube-api')).map(
      (o) => o.metadata?.name,
    );
    expect(names.sort()).toEqual(['one', 'two']);
  });

  it('deletes only the object with the uid it was given, never a namesake', async () => {
    const original = await api.apply(configMap('three', { c: '1' }));
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'three' };
    expect(await api.delete(ref, original.metadata!.uid)).toBe(true);
    await api.apply(configMap('three', { c: 'namesake' }));
    const refused = await api.delete(ref, original.metadata!.uid).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AviaryError);
    expect((refused as AviaryError).code).toBe('AVIARY_KUBE_API');
    expect((refused as AviaryError).message).toMatch(
      /^delete ConfigMap default\/three: .*the UID in the precondition .* does not match .*\(HTTP 409\)$/,
    );
    expect(await api.read(ref)).toBeDefined();
    expect(await api.delete({ ...ref, name: 'absent' })).toBe(false);
  });

  it('names the object and the API server’s reason when an apply is refused', async () => {
    const bad = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'bad', namespace: 'default' },
      spec: {},
    };
    const error = await api.apply(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AviaryError);
    expect((error as Error).message).toMatch(/^apply Deployment default\/bad: .*selector.*\(HTTP 422\)$/);
  });

  it('a cache whose first list is refused for good rejects naming the kind and the reason, rather than syncing empty', async () => {
    // 404: the kind's CRD is not installed.
    const missing = new ObjectCacheOf(api, {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      namespace: 'default',
    });
    await expect(missing.synced).rejects.toThrow(/list Widget default\/\*: .*\(HTTP 404\)/);
    await missing.stop();
    // 403: a ServiceAccount no role grants anything, with a token of its own.
    await kubectl(plane.kubeconfig, ['create', 'serviceaccount', 'nobody', '-n', 'default']);
    const token = (await kubectl(plane.kubeconfig, ['create', 'token', 'nobody', '-n', 'default'])).trim();
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'test', server: plane.server, caFile: plane.caFile }],
      users: [{ name: 'nobody', token }],
      contexts: [{ name: 'nobody', cluster: 'test', user: 'nobody' }],
      currentContext: 'nobody',
    });
    const forbidden = new ObjectCacheOf(new KubeApi(config), {
      apiVersion: 'v1',
      kind: 'Pod',
      namespace: 'default',
    });
    await expect(forbidden.synced).rejects.toThrow(
      /list Pod default\/\*: .*"system:serviceaccount:default:nobody" cannot list resource "pods".*\(HTTP 403\)/,
    );
    await forbidden.stop();
    // And one that may list syncs with what the server holds.
    const allowed = new ObjectCacheOf(api, {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      namespace: 'default',
    });
    await allowed.synced;
    expect(allowed.get('nobody', 'default')?.metadata?.name).toBe('nobody');
    await allowed.stop();
  });

  it('watches changes as they happen', async () => {
    const seen: string[] = [];
    let resolveSeen: () => void;
    const done = new Promise<void>((resolve) => (resolveSeen = resolve));
    const watch = await api.watch(
      '/api/v1/namespaces/default/configmaps',
      { labelSelector: 'suite=kube-api-watch' },
      (type, object) => {
        seen.push(`${type} ${object.metadata?.name}`);
        if (seen.includes('ADDED four')) resolveSeen();
      },
      () => undefined,
    );
    await api.apply({
      ...configMap('four', {}),
      metadata: { name: 'four', namespace: 'default', labels: { suite: 'kube-api-watch' } },
    });
    await done;
    watch.abort();
    expect(seen).toContain('ADDED four');
  });

  it('a cache keeps no managedFields, and trims what its owner asks, in listed and watched objects alike', async () => {
    await api.apply({
      ...configMap('listed', {}),
      metadata: { name: 'listed', namespace: 'default', labels: { suite: 'kube-api-trim' } },
      data: { keep: 'k', drop: 'd' },
    });
    const cache = new ObjectCacheOf<V1ConfigMap>(
      api,
      { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default' },
      { trim: (object) => void delete (object as V1ConfigMap).data?.drop },
    );
    await cache.synced;
    const watched = new Promise<void>((resolve) => {
      cache.onChange((object) => {
        if (object.metadata?.name === 'watched') resolve();
      });
    });
    await api.apply({
      ...configMap('watched', {}),
      metadata: { name: 'watched', namespace: 'default', labels: { suite: 'kube-api-trim' } },
      data: { keep: 'k', drop: 'd' },
    });
    await watched;
    // The API server does keep them: server-side apply records its field manager.
    const live = await api.read<V1ConfigMap>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: 'default',
      name: 'watched',
    });
    expect(live?.metadata?.managedFields?.length).toBeGreaterThan(0);
    for (const name of ['listed', 'watched']) {
      const cached = cache.get(name, 'default');
      expect(cached?.metadata?.managedFields).toBeUndefined();
      expect(cached?.data).toEqual({ keep: 'k' });
    }
    await cache.stop();
  });

  it('counts each request it sends by verb and resource, and renders them as Prometheus text', async () => {
    const counted = new KubeApi({ kubeconfig: plane.kubeconfig });
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'counted', namespace: 'default' },
      spec: { ports: [{ port: 80 }] },
    };
    await counted.apply(service);
    await counted.apply(service);
    const ref = { apiVersion: 'v1', kind: 'Service', namespace: 'default', name: 'counted' };
    await counted.read(ref);
    await counted.patchStatus('/api/v1/namespaces/default/services/counted', ref, {
      loadBalancer: {},
    });
    await counted.list('v1', 'ConfigMap', 'default');
    await counted.delete(ref);
    expect(await counted.delete(ref)).toBe(false);
    const bad = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'bad', namespace: 'default' },
    };
    await counted.apply(bad).catch(() => undefined);
    expect(counted.requestCounts()).toEqual([
      { verb: 'list', resource: 'configmaps', count: 1 },
      { verb: 'apply', resource: 'deployments', count: 1 },
      { verb: 'apply', resource: 'services', count: 2 },
      { verb: 'delete', resource: 'services', count: 2 },
      { verb: 'get', resource: 'services', count: 1 },
      { verb: 'patch', resource: 'services/status', count: 1 },
    ]);
    expect(counted.metricsText().split('\n')).toEqual(
      expect.arrayContaining([
        '# TYPE aviary_kube_api_requests_total counter',
        'aviary_kube_api_requests_total{verb="apply",resource="services"} 2',
        'aviary_kube_api_requests_total{verb="patch",resource="services/status"} 1',
      ]),
    );
    expect(api.requestCounts()).not.toContainEqual(expect.objectContaining({ resource: 'services' }));
  });
});
