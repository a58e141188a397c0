import { describe, expect, it } from 'vitest';
import type { HttpRoute, RouteCondition, RouteParentStatus } from './http-route.js';
import { acceptanceOf } from './route-acceptance.js';

const accepted = (
  observedGeneration: number,
  status: RouteCondition['status'] = 'True',
  reason = 'Accepted',
) => ({
  type: 'Accepted',
  status,
  reason,
  message: `said at ${observedGeneration}`,
  observedGeneration,
});

function route(generation: number, parents: RouteParentStatus[]): HttpRoute {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'catalog', namespace: 'shop', generation },
    spec: {
      parentRefs: [
        { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public' },
        {
          group: 'gateway.networking.k8s.io',
          kind: 'Gateway',
          name: 'internal',
          namespace: 'infra',
          sectionName: 'http',
        },
      ],
      rules: [],
    },
    status: { parents },
  };
}

const publicParent = { name: 'public' };
const internalParent = { name: 'internal', namespace: 'infra', sectionName: 'http' };
const controllerName = 'example.com/gateway';

describe('acceptanceOf', () => {
  it('accepts when every parent accepted the current generation (defaults of the parentRef filled in)', () => {
    expect(
      acceptanceOf(
        route(3, [
          { parentRef: publicParent, controllerName, conditions: [accepted(3)] },
          { parentRef: { ...internalParent, kind: 'Gateway' }, controllerName, conditions: [accepted(4)] },
        ]),
      ),
    ).toEqual({ kind: 'accepted' });
  });

  it('waits for a parent with no status, or one that speaks of an older generation', () => {
    const verdict = acceptanceOf(
      route(3, [{ parentRef: publicParent, controllerName, conditions: [accepted(2)] }]),
    );
    expect(verdict).toEqual({
      kind: 'pending',
      waiting: [
        'Gateway shop/public: Accepted=True (Accepted) at generation 2, route at 3',
        'Gateway infra/internal/http: no status from its controller',
      ],
    });
  });

  it('does not take a status for another listener of the same gateway', () => {
    const verdict = acceptanceOf(
      route(1, [
        { parentRef: publicParent, controllerName, conditions: [accepted(1)] },
        { parentRef: { ...internalParent, sectionName: 'https' }, controllerName, conditions: [accepted(1)] },
      ]),
    );
    expect(verdict.kind).toBe('pending');
  });

  it('reports a refusal at the current generation with its reason, but not an old one', () => {
    const refusal = accepted(3, 'False', 'NotAllowedByListeners');
    expect(
      acceptanceOf(
        route(3, [
          { parentRef: publicParent, controllerName, conditions: [accepted(3)] },
          { parentRef: internalParent, controllerName, conditions: [refusal] },
        ]),
      ),
    ).toEqual({ kind: 'refused', parent: 'Gateway infra/internal/http', condition: refusal });
    expect(
      acceptanceOf(
        route(4, [
          { parentRef: publicParent, controllerName, conditions: [accepted(4)] },
          { parentRef: internalParent, controllerName, conditions: [refusal] },
        ]),
      ).kind,
    ).toBe('pending');
  });
});
