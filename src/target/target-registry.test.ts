import { describe, expect, it } from 'vitest';
import { CLUSTER_WORKLOAD_KINDS, WORKLOAD_KINDS } from '../config/app-workload.js';
import { makeStateDir, removeStateDir } from '../../test/fixtures/apps/http-app-spec.js';
import { targetRegistry } from './target-registry.js';
import { WorkloadTargets } from './workload-targets.js';

describe('targetRegistry', () => {
  it('builds a target for every workload kind the configuration knows', async () => {
    const stateDir = await makeStateDir();
    try {
      expect(targetRegistry.kinds()).toEqual(['process', 'endpoints', 'deployment']);
      expect([...targetRegistry.kinds()].sort()).toEqual(
        [...WORKLOAD_KINDS, ...CLUSTER_WORKLOAD_KINDS].sort(),
      );
      for (const kind of WORKLOAD_KINDS)
        expect(targetRegistry.create(kind, { stateDir }, undefined).kind).toBe(kind);
    } finally {
      await removeStateDir(stateDir);
    }
  });

  it('rejects an unknown kind and lists the known ones', () => {
    expect(() => targetRegistry.create('kubernetes', { stateDir: '/nonexistent' }, undefined)).toThrow(
      expect.objectContaining({
        code: 'AVIARY_TARGET_UNKNOWN_KIND',
        message:
          'apps[].<workload kind>: unknown workload kind "kubernetes"; known kinds: process, endpoints, deployment',
      }),
    );
  });

  it('builds the deployment kind only with the Kubernetes API, which the operator gives it', () => {
    expect(() => targetRegistry.create('deployment', { stateDir: '/nonexistent' }, undefined)).toThrow(
      /^workload kind deployment: Kubernetes Deployments are run by the operator \(aviary operator\)/,
    );
  });
});

describe('WorkloadTargets', () => {
  it('sends each spec to the target of its kind and identifies it there', () => {
    const targets = new WorkloadTargets((kind) =>
      targetRegistry.create(kind, { stateDir: '/nonexistent' }, undefined),
    );
    const endpoints = { kind: 'endpoints' as const, addresses: ['10.0.0.2:80', '10.0.0.1:80'] };
    const reordered = { ...endpoints, addresses: ['10.0.0.1:80', '10.0.0.2:80'] };
    expect(targets.identify(endpoints)).toEqual({
      revision: targets.identify(reordered).revision,
      replicas: 2,
    });
    const process = { command: 'node', args: ['a.js'], env: {}, replicas: 3 };
    expect(targets.identify(process).replicas).toBe(3);
    expect(targets.withReplicas(process, 1)).toMatchObject({ replicas: 1 });
    expect(targets.withReplicas(endpoints, 5)).toBe(endpoints);
    expect(targets.targetOf('endpoints').kind).toBe('endpoints');
  });
});
