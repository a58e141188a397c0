/**
 * For the operator's end-to-end tests: the part of a Gateway API implementation that answers
 * routes. No data plane runs in the test cluster, so this plays its controller: every HTTPRoute
 * attached to a Gateway of `controllerName`'s class gets, through the status subresource,
 * `Accepted=True` at its current generation, as Envoy Gateway or Istio would write it. A
 * simulation of a seam outside Aviary, said so in the README; the API server is real.
 */
import { KubeApi } from '../../src/kubernetes/kube-api.js';

/** The controller name it reports in `status.parents[].controllerName`. */
export const TEST_GATEWAY_CONTROLLER = 'example.com/aviary-test-gateway';

interface Route {
  metadata: { name: string; namespace: string; generation: number };
  spec: { parentRefs?: { name: string; namespace?: string; group?: string; kind?: string }[] };
  status?: { parents?: { conditions?: { type: string; observedGeneration?: number }[] }[] };
}

/** A running simulated gateway controller; `stop` ends its loop. */
export interface GatewayController {
  /** Routes it has answered, with the generation, in order. */
  readonly answered: { route: string; generation: number }[];
  stop(): Promise<void>;
}

/** Starts answering the HTTPRoutes of `namespace` every `pollMs`. */
export function startGatewayController(
  kubeconfig: string,
  namespace: string,
  pollMs = 100,
): GatewayController {
  const api = new KubeApi({ kubeconfig });
  const answered: { route: string; generation: number }[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const routes = await api
        .list<Route>('gateway.networking.k8s.io/v1', 'HTTPRoute', namespace)
        .catch(() => []);
      for (const route of routes) {
        const generation = route.metadata.generation;
        const current = route.status?.parents?.every((p) =>
          p.conditions?.some((c) => c.type === 'Accepted' && (c.observedGeneration ?? 0) >= generation),
        );
        if (current === true && (route.status?.parents?.length ?? 0) > 0) continue;
        const at = new Date().toISOString();
        await api
          .patchStatus(
            `/apis/gateway.networking.k8s.io/v1/namespaces/${namespace}/httproutes/${route.metadata.name}`,
            {
              apiVersion: 'gateway.networking.k8s.io/v1',
              kind: 'HTTPRoute',
              namespace,
              name: route.metadata.name,
            },
            {
              parents: (route.spec.parentRefs ?? []).map((parentRef) => ({
                parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', ...parentRef },
                controllerName: TEST_GATEWAY_CONTROLLER,
                conditions: [
                  {
                    type: 'Accepted',
                    status: 'True',
                    reason: 'Accepted',
                    message: 'accepted by the test gateway',
                    observedGeneration: generation,
                    lastTransitionTime: at,
                  },
                ],
              })),
            },
          )
          .then(() => answered.push({ route: route.metadata.name, generation }))
          .catch(() => undefined);
      }
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  })();
  return {
    answered,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
