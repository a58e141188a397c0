/**
 * The `deployment` target: an app's versions as Kubernetes Deployments, as Flagger runs
 * them (docs/adr/0019-kubernetes-operator.md). The canary is the user's target Deployment, of
 * which the operator sets only `spec.replicas`; the primary (and a fresh baseline) are
 * Deployments it creates from a pod template, owned by the Canary. Writes are server-side
 * applies; reads come from list-and-watch caches (src/kubernetes/object-cache.ts), so a tick
 * costs the API server nothing. Stopping a version scales it to 0: the operator never deletes
 * a Deployment, and its RBAC does not allow it; the Canary's deletion collects what it owns.
 */
import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { DeploymentSpec } from '../../config/app-deployment.js';
import type { KubeApi } from '../../kubernetes/kube-api.js';
import { ObjectCacheOf } from '../../kubernetes/object-cache.js';
import { TargetError } from '../target-error.js';
import {
  assertAppName,
  assertReplicas,
  versionNotFound,
  type DesiredVersion,
  type LogLine,
  type RecoveryReport,
  type Target,
  type VersionRole,
  type VersionStatus,
} from '../target.js';
import {
  deploymentName,
  ownedDeployment,
  REVISION_ANNOTATION,
  roleSelector,
  SCALE_FIELD_MANAGER,
  serviceObject,
  targetScale,
  templateRevision,
} from './deployment-objects.js';
import { versionStatusOf } from './deployment-status.js';

/** Options of a {@link DeploymentTarget}. */
export interface DeploymentTargetOptions {
  readonly api: KubeApi;
  /** Namespace whose Deployments, ReplicaSets and pods are cached; default every namespace. */
  readonly namespace?: string;
}

/** How long an unchanged Service is not applied again. */
const SERVICE_REAPPLY_MS = 5 * 60_000;

function aborted(signal: AbortSignal | undefined): void {
  signal?.throwIfAborted();
}

/** The `deployment` workload kind's target. */
export class DeploymentTarget implements Target<DeploymentSpec> {
  readonly kind = 'deployment';
  readonly #api: KubeApi;
  readonly #deployments: ObjectCacheOf<V1Deployment>;
  readonly #replicaSets: ObjectCacheOf<V1ReplicaSet>;
  readonly #pods: ObjectCacheOf<V1Pod>;
  /** The last spec of each app's roles (the canary's is the target's current template). */
  readonly #specs = new Map<string, Map<VersionRole, DeploymentSpec>>();
  #closed = false;
  /**
   * Each Service as last applied (JSON) and when: a rollout ensures its versions at every
   * start and step, and an unchanged Service is not applied again within
   * {@link SERVICE_REAPPLY_MS} (after that it is, putting back any change made behind Aviary).
   */
  readonly #services = new Map<string, { json: string; at: number }>();

  constructor(options: DeploymentTargetOptions) {
    this.#api = options.api;
    const ns = options.namespace !== undefined ? { namespace: options.namespace } : {};
    this.#deployments = new ObjectCacheOf(options.api, { apiVersion: 'apps/v1', kind: 'Deployment', ...ns });
    this.#replicaSets = new ObjectCacheOf(options.api, { apiVersion: 'apps/v1', kind: 'ReplicaSet', ...ns });
    this.#pods = new ObjectCacheOf(options.api, { apiVersion: 'v1', kind: 'Pod', ...ns });
  }

  /** Resolves once every cache holds its first complete list. */
  async synced(): Promise<void> {
    await Promise.all([this.#deployments.synced, this.#replicaSets.synced, this.#pods.synced]);
  }

  /** A Deployment as the cache holds it (the operator reads Canaries' targets here). */
  deployment(namespace: string, name: string): V1Deployment | undefined {
    return this.#deployments.get(name, namespace);
  }

  /** Calls `listener` when a cached Deployment changes; returns a function that removes it. */
  onDeploymentChange(
    listener: (deployment: V1Deployment, verb: 'add' | 'update' | 'delete') => void,
  ): () => void {
    return this.#deployments.onChange(listener);
  }

  identify(spec: DeploymentSpec): DesiredVersion {
    return { revision: templateRevision(spec.template), replicas: spec.replicas };
  }

  withReplicas(spec: DeploymentSpec, replicas: number): DeploymentSpec {
    return { ...spec, replicas };
  }

  /**
   * Tells the target what an app's role runs without changing anything, so `status`,
   * `scale` and `stop` know its objects after an operator restart (the operator calls it for
   * each Canary before the controller starts).
   */
  track(app: string, role: VersionRole, spec: DeploymentSpec): void {
    let roles = this.#specs.get(app);
    if (!roles) this.#specs.set(app, (roles = new Map<VersionRole, DeploymentSpec>()));
    roles.set(role, spec);
  }

  async ensureVersion(
    app: string,
    role: VersionRole,
    spec: DeploymentSpec,
    signal?: AbortSignal,
  ): Promise<VersionStatus> {
    this.#open();
    aborted(signal);
    assertAppName(app);
    assertReplicas(app, role, spec.replicas);
    if (role === 'canary') {
      if (this.#deployments.get(spec.targetName, spec.namespace) === undefined) {
        const live = await this.#api.read({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          namespace: spec.namespace,
          name: spec.targetName,
        });
        if (live === undefined) {
          throw new TargetError(
            'AVIARY_TARGET_VERSION_NOT_FOUND',
            `app ${app}: the target Deployment ${spec.namespace}/${spec.targetName} does not exist; create it, or fix spec.targetRef.name`,
          );
        }
      }
      await this.#api.apply(targetScale(spec, spec.replicas), SCALE_FIELD_MANAGER);
    } else {
      await this.#api.apply(ownedDeployment(spec, role, spec.replicas));
    }
    await this.#applyService(serviceObject(spec, role));
    // The apex and the canary's Service are made with the primary, as Flagger makes them at
    // initialisation: the route names the canary's from its first write (weight 0), and a
    // backendRef to a missing Service is not resolved (ResolvedRefs False).
    if (role === 'primary') {
      await this.#applyService(serviceObject(spec, 'apex'));
      await this.#applyService(serviceObject(spec, 'canary'));
    }
    this.track(app, role, spec);
    return this.#statusOf(app, role, spec);
  }

  async scale(
    app: string,
    role: VersionRole,
    replicas: number,
    signal?: AbortSignal,
  ): Promise<VersionStatus> {
    this.#open();
    aborted(signal);
    assertReplicas(app, role, replicas);
    const spec = this.#specs.get(app)?.get(role);
    if (spec === undefined) throw versionNotFound(app, role, 'scale');
    const sized = { ...spec, replicas };
    await this.#api.apply(
      role === 'canary' ? targetScale(sized, replicas) : ownedDeployment(sized, role, replicas),
    );
    this.track(app, role, sized);
    return this.#statusOf(app, role, sized);
  }

  async promote(app: string, signal?: AbortSignal): Promise<VersionStatus> {
    this.#open();
    aborted(signal);
    const roles = this.#specs.get(app);
    const canary = roles?.get('canary');
    const primary = roles?.get('primary');
    if (canary === undefined || primary === undefined)
      throw versionNotFound(app, canary ? 'primary' : 'canary', 'promote');
    return this.ensureVersion(app, 'primary', { ...canary, replicas: primary.replicas }, signal);
  }

  /** From the caches: no API call. */
  status(app: string, role: VersionRole): Promise<VersionStatus | undefined> {
    this.#open();
    const spec = this.#specs.get(app)?.get(role);
    return Promise.resolve(spec === undefined ? undefined : this.#statusOf(app, role, spec));
  }

  async stop(app: string, role: VersionRole, signal?: AbortSignal): Promise<void> {
    this.#open();
    aborted(signal);
    const spec = this.#specs.get(app)?.get(role);
    if (spec === undefined) return;
    const stopped = { ...spec, replicas: 0 };
    await this.#apply(role, stopped);
    this.#specs.get(app)?.delete(role);
  }

  /** Pod logs need a kubelet, which the operator does not talk to: none are kept here. */
  logs(): Promise<readonly LogLine[]> {
    return Promise.resolve([]);
  }

  /** Deployments outlive the operator: there is nothing to adopt or clean up. */
  recover(): Promise<RecoveryReport> {
    return Promise.resolve({ adopted: [], discarded: [] });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.#deployments.stop(), this.#replicaSets.stop(), this.#pods.stop()]);
  }

  /** Sizes the role's Deployment as `spec` says: the target's scale, or the whole owned Deployment. */
  async #applyService(service: ReturnType<typeof serviceObject>): Promise<void> {
    const key = `${service.metadata.namespace}/${service.metadata.name}`;
    const json = JSON.stringify(service);
    const last = this.#services.get(key);
    if (last?.json === json && performance.now() - last.at < SERVICE_REAPPLY_MS) return;
    this.#services.delete(key);
    await this.#api.apply(service);
    this.#services.set(key, { json, at: performance.now() });
  }

  async #apply(role: VersionRole, spec: DeploymentSpec): Promise<void> {
    if (role === 'canary') await this.#api.apply(targetScale(spec, spec.replicas), SCALE_FIELD_MANAGER);
    else await this.#api.apply(ownedDeployment(spec, role, spec.replicas));
  }

  #open(): void {
    if (this.#closed) throw new TargetError('AVIARY_TARGET_CLOSED', 'the deployment target is closed');
  }

  /** The role's status from the caches; a Deployment not cached yet reads as starting with nothing ready. */
  #statusOf(app: string, role: VersionRole, spec: DeploymentSpec): VersionStatus {
    const name = deploymentName(spec, role);
    const revision = templateRevision(spec.template);
    const deployment = this.#deployments.get(name, spec.namespace) ?? {
      metadata: { name, namespace: spec.namespace, generation: 1 },
      spec: { replicas: spec.replicas, selector: { matchLabels: roleSelector(spec, role) }, template: {} },
      status: { observedGeneration: 0 },
    };
    const running =
      role === 'canary'
        ? deployment.spec?.template !== undefined && this.#deployments.get(name, spec.namespace) !== undefined
          ? templateRevision(deployment.spec.template as Record<string, unknown>)
          : undefined
        : deployment.metadata?.annotations?.[REVISION_ANNOTATION];
    const uid = deployment.metadata?.uid;
    return versionStatusOf({
      app,
      role,
      revision,
      runningRevision: running,
      deployment,
      replicaSets:
        uid === undefined
          ? []
          : this.#replicaSets
              .list(spec.namespace)
              .filter((rs) => rs.metadata?.ownerReferences?.some((o) => o.uid === uid)),
      pods: this.#pods.list(spec.namespace, roleSelector(spec, role)),
      targetPort: spec.service.targetPort,
    });
  }
}
