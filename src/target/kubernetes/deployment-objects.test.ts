import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { DeploymentSpec } from '../../config/app-deployment.js';
import {
  ownedDeployment,
  roleSelector,
  serviceObject,
  targetScale,
  templateRevision,
} from './deployment-objects.js';
import { versionStatusOf } from './deployment-status.js';

const spec: DeploymentSpec = {
  kind: 'deployment',
  namespace: 'shop',
  targetName: 'cart',
  selector: { app: 'cart', tier: 'web' },
  template: {
    metadata: { labels: { app: 'cart', tier: 'web', team: 'a' } },
    spec: { containers: [{ name: 'cart', image: 'cart:1' }] },
  },
  replicas: 2,
  service: { name: 'cart-svc', port: 80, targetPort: 8080, portName: 'http' },
  owner: { apiVersion: 'aviary.dev/v1alpha1', kind: 'Canary', name: 'cart', uid: 'u-1' },
};

describe('deployment objects', () => {
  it('hashes a template whatever its key order, and tells templates apart', () => {
    const reordered = { spec: spec.template.spec, metadata: spec.template.metadata };
    expect(templateRevision(reordered)).toBe(templateRevision(spec.template));
    const other = { ...spec.template, spec: { containers: [{ name: 'cart', image: 'cart:2' }] } };
    expect(templateRevision(other)).not.toBe(templateRevision(spec.template));
  });

  it('suffixes every selector label for the copies, so their pods never match the target', () => {
    expect(roleSelector(spec, 'canary')).toEqual({ app: 'cart', tier: 'web' });
    expect(roleSelector(spec, 'primary')).toEqual({ app: 'cart-primary', tier: 'web-primary' });
    const primary = ownedDeployment(spec, 'primary', 3);
    expect(primary.metadata.name).toBe('cart-primary');
    expect(primary.spec.selector.matchLabels).toEqual({ app: 'cart-primary', tier: 'web-primary' });
    expect(primary.spec.template.metadata.labels).toEqual({
      app: 'cart-primary',
      tier: 'web-primary',
      team: 'a',
    });
    expect(primary.spec.replicas).toBe(3);
    expect(primary.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'aviary.dev/v1alpha1',
        kind: 'Canary',
        name: 'cart',
        uid: 'u-1',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(primary.metadata.annotations['aviary.dev/revision']).toBe(templateRevision(spec.template));
  });

  it('scales the target with its replicas alone, and selects the primary from the apex Service', () => {
    expect(targetScale(spec, 0)).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'cart', namespace: 'shop' },
      spec: { replicas: 0 },
    });
    expect(serviceObject(spec, 'apex').metadata.name).toBe('cart-svc');
    expect(serviceObject(spec, 'apex').spec.selector).toEqual(roleSelector(spec, 'primary'));
    expect(serviceObject(spec, 'canary').metadata.name).toBe('cart-svc-canary');
    expect(serviceObject(spec, 'canary').spec.ports).toEqual([
      { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
    ]);
  });
});

describe('a Deployment read as a version', () => {
  const deployment = (generation: number, observed: number): V1Deployment => ({
    metadata: {
      name: 'cart-primary',
      uid: 'd-1',
      generation,
      annotations: { 'deployment.kubernetes.io/revision': '2' },
    },
    spec: { replicas: 2, selector: {}, template: {} },
    status: { observedGeneration: observed },
  });
  const rs = (revision: string, hash: string): V1ReplicaSet => ({
    metadata: {
      name: `cart-primary-${hash}`,
      labels: { 'pod-template-hash': hash },
      annotations: { 'deployment.kubernetes.io/revision': revision },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'cart-primary', uid: 'd-1' }],
    },
  });
  const pod = (name: string, hash: string, ready: boolean): V1Pod => ({
    metadata: { name, labels: { 'pod-template-hash': hash } },
    status: {
      phase: 'Running',
      podIP: `10.0.0.${name.length}`,
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  });
  const observe = (d: V1Deployment, running: string) =>
    versionStatusOf({
      app: 'cart',
      role: 'primary',
      revision: 'r2',
      runningRevision: running,
      deployment: d,
      replicaSets: [rs('1', 'old'), rs('2', 'new')],
      pods: [pod('a', 'old', true), pod('bb', 'new', true), pod('ccc', 'new', false)],
      targetPort: 8080,
    });

  it('counts ready pods of the current ReplicaSet only, and routes to every ready pod', () => {
    const status = observe(deployment(3, 3), 'r2');
    expect(status.readyReplicas).toBe(1);
    expect(status.readyPercent).toBe(50);
    expect(status.endpoints).toEqual(['10.0.0.1:8080', '10.0.0.2:8080']);
  });

  it('counts nothing ready before the controller observed the spec, or while another revision runs', () => {
    expect(observe(deployment(4, 3), 'r2').readyReplicas).toBe(0);
    expect(observe(deployment(3, 3), 'r1').readyReplicas).toBe(0);
  });
});
