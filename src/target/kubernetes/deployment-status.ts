/**
 * A Deployment's state as the controller reads a version (`VersionStatus`), computed purely
 * from the Deployment, its ReplicaSets and the pods its selector matches, as the caches hold
 * them. Ready replicas are the ready pods of the ReplicaSet of the Deployment's current
 * revision, counted only once the Deployment controller has observed its latest spec and that
 * spec runs the revision asked for; endpoints are every ready pod, old ones included while
 * they still serve. The reason a version is not ready is read from the API's own words: an
 * unschedulable pod, a crashing container, a Deployment condition.
 */
import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { readyPercentOf, type ReplicaStatus, type VersionRole, type VersionStatus } from '../target.js';

/** What the status is computed from. */
export interface DeploymentObservation {
  readonly app: string;
  readonly role: VersionRole;
  /** The revision asked for, and the revision the Deployment's template runs (undefined: unknown). */
  readonly revision: string;
  readonly runningRevision: string | undefined;
  readonly deployment: V1Deployment;
  readonly replicaSets: readonly V1ReplicaSet[];
  readonly pods: readonly V1Pod[];
  /** A port number, or a container port's name. */
  readonly targetPort: number | string;
}

/** `podIP:port` of a pod, a named port resolved in its own containers; null when it has none. */
function endpointOf(pod: V1Pod, targetPort: number | string): string | null {
  const ip = pod.status?.podIP;
  if (!ip) return null;
  if (typeof targetPort === 'number') return `${ip}:${targetPort}`;
  const port = (pod.spec?.containers ?? [])
    .flatMap((c) => c.ports ?? [])
    .find((p) => p.name === targetPort)?.containerPort;
  return port === undefined ? null : `${ip}:${port}`;
}

const DEPLOYMENT_REVISION = 'deployment.kubernetes.io/revision';

function isReady(pod: V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp !== undefined || !pod.status?.podIP) return false;
  return pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The ReplicaSet of the Deployment's current revision, once the controller observed its spec. */
function currentReplicaSet(
  deployment: V1Deployment,
  replicaSets: readonly V1ReplicaSet[],
): V1ReplicaSet | undefined {
  const observed = (deployment.status?.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0);
  const revision = deployment.metadata?.annotations?.[DEPLOYMENT_REVISION];
  if (!observed || revision === undefined) return undefined;
  return replicaSets.find(
    (rs) =>
      rs.metadata?.annotations?.[DEPLOYMENT_REVISION] === revision &&
      rs.metadata.ownerReferences?.some((o) => o.uid === deployment.metadata?.uid),
  );
}

/** Why the version is not (fully) ready, from pods and the Deployment's conditions; null when nothing says. */
function lastErrorOf(deployment: V1Deployment, pods: readonly V1Pod[]): string | null {
  for (const pod of pods) {
    const unschedulable = pod.status?.conditions?.find(
      (c) => c.type === 'PodScheduled' && c.status === 'False',
    );
    if (unschedulable)
      return `pod ${pod.metadata?.name}: ${unschedulable.reason ?? 'not scheduled'}: ${unschedulable.message ?? ''}`.trim();
    for (const container of pod.status?.containerStatuses ?? []) {
      const waiting = container.state?.waiting;
      if (waiting?.reason !== undefined && waiting.reason !== 'ContainerCreating') {
        return `pod ${pod.metadata?.name}, container ${container.name}: ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`;
      }
    }
  }
  const failed = deployment.status?.conditions?.find(
    (c) =>
      (c.type === 'Progressing' || c.type === 'ReplicaFailure') &&
      c.status === (c.type === 'Progressing' ? 'False' : 'True'),
  );
  return failed
    ? `Deployment ${deployment.metadata?.name}: ${failed.reason ?? failed.type}: ${failed.message ?? ''}`.trim()
    : null;
}

/** The version's status; see the module comment. */
export function versionStatusOf(observation: DeploymentObservation): VersionStatus {
  const { deployment, pods, targetPort } = observation;
  const current = currentReplicaSet(deployment, observation.replicaSets);
  const runsRevision = observation.runningRevision === observation.revision;
  const hash = current?.metadata?.labels?.['pod-template-hash'];
  const ofCurrent = pods.filter(
    (p) => runsRevision && hash !== undefined && p.metadata?.labels?.['pod-template-hash'] === hash,
  );
  const readyPods = pods.filter(isReady);
  const desiredReplicas = deployment.spec?.replicas ?? 1;
  const readyReplicas = ofCurrent.filter(isReady).length;
  const replicas: ReplicaStatus[] = pods.map((pod, index) => {
    const ofRevision = ofCurrent.includes(pod);
    return {
      pod: pod.metadata?.name ?? '',
      replica: index,
      revision: ofRevision ? observation.revision : (observation.runningRevision ?? ''),
      phase:
        pod.metadata?.deletionTimestamp !== undefined
          ? 'stopping'
          : pod.status?.phase === 'Running'
            ? 'running'
            : 'starting',
      endpoint: endpointOf(pod, targetPort),
      ready: isReady(pod),
      restarts: (pod.status?.containerStatuses ?? []).reduce((sum, c) => sum + c.restartCount, 0),
      adopted: false,
    };
  });
  return {
    app: observation.app,
    role: observation.role,
    revision: observation.revision,
    desiredReplicas,
    readyReplicas: Math.min(readyReplicas, desiredReplicas),
    readyPercent: readyPercentOf(Math.min(readyReplicas, desiredReplicas), desiredReplicas),
    endpoints: readyPods
      .map((p) => endpointOf(p, targetPort))
      .filter((e): e is string => e !== null)
      .sort(),
    restarts: replicas
      .filter((r) => r.revision === observation.revision)
      .reduce((sum, r) => sum + r.restarts, 0),
    lastError:
      readyReplicas >= desiredReplicas
        ? null
        : lastErrorOf(deployment, ofCurrent.length > 0 ? ofCurrent : pods),
    replicas,
  };
}
