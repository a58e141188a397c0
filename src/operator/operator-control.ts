/**
 * The control API and dashboard of `aviary up`, served by the operator over its controller
 * (docs/adr/0021-commands-on-kubernetes.md): every CLI command works against it unchanged.
 * An app's description adds its Deployments and HTTPRoute; `/metrics` adds the operator's
 * requests to the API server. With `releases`, release files are applied here too
 * (`aviary apply`, docs/adr/0024-releases-on-kubernetes.md) and listed beside the rollouts.
 */
import { ControlServer } from '../api/control-server.js';
import { releaseRoutes } from '../api/release-routes.js';
import type { TrafficWindows } from '../analysis/traffic-source.js';
import type { KubeApi } from '../kubernetes/kube-api.js';
import type { RolloutController } from '../rollout/controller/controller.js';
import type { TrafficRouter } from '../router/traffic-router.js';
import type { Target } from '../target/target.js';
import { dashboardRoutes } from '../web/dashboard-routes.js';
import type { ClusterReleases } from './cluster-releases.js';

/** Where the control API listens and the token its commands need. */
export interface ControlApiOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly token: string;
}

/** The operator's control server, not started yet. */
export function operatorControlServer(
  options: ControlApiOptions,
  parts: {
    readonly controller: RolloutController;
    readonly target: Pick<Target, 'status'>;
    readonly router: Pick<TrafficRouter, 'getRoutes'>;
    readonly traffic: TrafficWindows;
    readonly api: Pick<KubeApi, 'metricsText'>;
    readonly releases?: ClusterReleases;
  },
): ControlServer {
  const { controller, target, router, traffic, api, releases } = parts;
  return new ControlServer(controller, {
    host: options.host ?? '127.0.0.1',
    port: options.port,
    token: options.token,
    describe: async (app) => ({
      deployments: {
        primary: (await target.status(app, 'primary')) ?? null,
        canary: (await target.status(app, 'canary')) ?? null,
      },
      routes: await router.getRoutes(app).catch(() => null),
    }),
    extraMetrics: () => Promise.resolve(api.metricsText()),
    // The dashboard, with the per-version traffic the checks and the judge read.
    extraRoutes: [
      ...(releases !== undefined ? [releaseRoutes(releases, options.token)] : []),
      ...dashboardRoutes({ controller, router: { traffic } }),
    ],
    ...(releases !== undefined ? { releases } : {}),
  });
}
