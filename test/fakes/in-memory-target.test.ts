import { describe, expect, it } from 'vitest';
import { runTargetConformance } from '../conformance/target-conformance.js';
import { InMemoryTarget } from './in-memory-target.js';
import type { ProcessSpec } from '../../src/target/process/version-spec.js';

const specFor = (variant: string, replicas: number, env: Record<string, string> = {}): ProcessSpec => ({
  command: 'app',
  args: ['--serve'],
  env: { VARIANT: variant, ...env },
  replicas,
});

runTargetConformance({
  name: 'InMemoryTarget',
  create: () =>
    Promise.resolve({
      target: new InMemoryTarget({
        initialReadiness: (_app, _role, spec) => (spec.env.FAIL_START === '1' ? 'failing' : 'ready'),
      }),
      healthySpec: (variant, replicas) => specFor(variant, replicas),
      failingSpec: (replicas) => specFor('broken', replicas, { FAIL_START: '1' }),
      dispose: () => Promise.resolve(),
    }),
});

describe('InMemoryTarget', () => {
  it('lets the bench set readiness and simulate crashes', async () => {
    const target = new InMemoryTarget({ initialReadiness: () => 'unready' });
    await target.ensureVersion('shop', 'canary', specFor('v1', 4));
    expect(await target.status('shop', 'canary')).toMatchObject({
      readyReplicas: 0,
      readyPercent: 0,
      endpoints: [],
    });
    target.setReady('shop', 'canary', 3);
    const partly = await target.status('shop', 'canary');
    expect(partly).toMatchObject({ readyReplicas: 3, readyPercent: 75 });
    expect(partly?.endpoints).toHaveLength(3);
    target.setReady('shop', 'canary', 99);
    expect((await target.status('shop', 'canary'))?.readyReplicas).toBe(4);
    target.crash('shop', 'canary', 'boom');
    expect(await target.status('shop', 'canary')).toMatchObject({
      readyReplicas: 0,
      restarts: 4,
      lastError: 'boom',
    });
  });

  it('refuses to set readiness of a version it does not have', () => {
    const target = new InMemoryTarget();
    expect(() => target.setReady('shop', 'primary', 1)).toThrow(
      expect.objectContaining({ code: 'AVIARY_TARGET_VERSION_NOT_FOUND' }),
    );
  });
});
