import { isDeepStrictEqual } from 'node:util';
import { V1Container, type V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { canaryApp, type CanaryObject } from './canary-app.js';

const canary: CanaryObject = {
  metadata: { name: 'podinfo', namespace: 'shop', uid: 'u1' },
  spec: {
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
    service: { port: 9898, gatewayRefs: [{ name: 'edge' }] },
    analysis: { interval: '10s', threshold: 2, stepWeight: 10, maxWeight: 50, judge: { enabled: false } },
  },
};

const target = (container: V1Container | Record<string, unknown>): V1Deployment => ({
  metadata: { name: 'podinfo', namespace: 'shop' },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'podinfo' } },
    template: { metadata: { labels: { app: 'podinfo' } }, spec: { containers: [container as V1Container] } },
  },
});

describe('a Canary read as an app', () => {
  it('is the same app whether its target came from a list (typed objects) or a watch event (keys in another order)', () => {
    // Read differently at each change, the spec looked new at every tick, and every tick
    // wrote the Canary's status (bench:operator: 4.9 status writes per Canary per step).
    const listed = Object.assign(new V1Container(), {
      name: 'app',
      image: 'podinfo:2',
      ports: [{ containerPort: 9898 }],
    });
    const watched = { ports: [{ containerPort: 9898 }], image: 'podinfo:2', name: 'app' };
    const fromList = canaryApp(canary, target(listed)).app;
    const fromWatch = canaryApp(canary, target(watched)).app;
    expect(isDeepStrictEqual(fromList, fromWatch)).toBe(true);
    expect(JSON.stringify(fromList)).toBe(JSON.stringify(fromWatch));
  });
});
