import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { versionStatusOf } from './deployment-status.js';

/** A ready pod at `ip` whose container has `ports`. */
const pod = (name: string, ip: string, ports: { name?: string; containerPort: number }[]): V1Pod => ({
  metadata: { name, labels: { 'pod-template-hash': 'h1' } },
  spec: { containers: [{ name: 'app', ports }] },
  status: { podIP: ip, phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
});

const observe = (targetPort: number | string, pods: V1Pod[]) =>
  versionStatusOf({
    app: 'podinfo',
    role: 'primary',
    revision: 'r1',
    runningRevision: 'r1',
    deployment: {
      metadata: { generation: 1 },
      spec: { replicas: pods.length, selector: {}, template: {} },
      status: { observedGeneration: 1 },
    },
    replicaSets: [],
    pods,
    targetPort,
  });

describe('a version’s endpoints', () => {
  it('are each ready pod’s IP with the target port number', () => {
    expect(observe(9898, [pod('a', '10.0.0.2', []), pod('b', '10.0.0.1', [])]).endpoints).toEqual([
      '10.0.0.1:9898',
      '10.0.0.2:9898',
    ]);
  });

  it('resolve a named target port in each pod’s own containers, as a Service does', () => {
    const status = observe('web', [
      pod('old', '10.0.0.1', [{ name: 'web', containerPort: 8080 }]),
      pod('new', '10.0.0.2', [
        { name: 'metrics', containerPort: 9100 },
        { name: 'web', containerPort: 9898 },
      ]),
      pod('other', '10.0.0.3', [{ name: 'admin', containerPort: 9000 }]),
    ]);
    expect(status.endpoints).toEqual(['10.0.0.1:8080', '10.0.0.2:9898']);
    expect(status.replicas.map((r) => r.endpoint)).toEqual(['10.0.0.1:8080', '10.0.0.2:9898', null]);
  });
});
