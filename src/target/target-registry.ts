/**
 * The target family: one factory per workload kind of src/config/app-workload.ts. An
 * unknown kind is an error listing the known ones: never a silent fallback to another kind.
 */
import type { WorkloadKind } from '../config/app-workload.js';
import type { KubeApi } from '../kubernetes/kube-api.js';
import { Registry, type EngineFactory } from '../registry.js';
import { EndpointsTarget } from './endpoints/endpoints-target.js';
import { DeploymentTarget } from './kubernetes/deployment-target.js';
import { ProcessTarget } from './process/process-target.js';
import type { Target, VersionRole } from './target.js';
import { TargetError } from './target-error.js';

/** What every target factory receives. */
export interface TargetContext {
  /** Directory for the target's state (child registry, logs). Created when missing. */
  readonly stateDir: string;
  /**
   * Called before a replica leaves service (a replacement, a scale-down, a stop), so its
   * traffic can drain first; the process target waits for it.
   */
  readonly onRetiring?: (app: string, role: VersionRole, endpoint: string) => Promise<void>;
  /** The Kubernetes API, under the operator: the `deployment` kind needs it. */
  readonly kubernetes?: { readonly api: KubeApi; readonly namespace?: string };
}

/** Builds a target; must not start anything until the target's methods are called. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each kind's target takes its own spec
export type TargetFactory = EngineFactory<TargetContext, undefined, Target<any>>;

const FACTORIES: Record<WorkloadKind, TargetFactory> = {
  process: (context) =>
    new ProcessTarget({
      stateDir: context.stateDir,
      ...(context.onRetiring ? { onRetiring: context.onRetiring } : {}),
    }),
  endpoints: () => new EndpointsTarget(),
  deployment: (context) => {
    if (context.kubernetes === undefined) {
      throw new TargetError(
        'AVIARY_TARGET_UNKNOWN_KIND',
        'workload kind deployment: Kubernetes Deployments are run by the operator (aviary operator), which reads Canary objects; aviary.yaml apps use process or endpoints',
      );
    }
    return new DeploymentTarget(context.kubernetes);
  },
};

/** The target family. */
export const targetRegistry = new Registry(
  'workload',
  'apps[].<workload kind>',
  'AVIARY_TARGET_UNKNOWN_KIND',
  FACTORIES,
);
