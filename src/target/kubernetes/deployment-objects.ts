/**
 * The Kubernetes objects the Deployment target writes, as pure functions of a
 * `DeploymentSpec` (src/config/app-deployment.ts), named as Flagger names them: the target
 * Deployment `<target>` runs the canary; `<target>-primary` (and, with a fresh baseline,
 * `<target>-baseline`) are created from a pod template with every selector label suffixed, so
 * their pods never match the target's selector; Services `<svc>` (the apex, selecting the
 * primary), `<svc>-primary`, `<svc>-canary` and `<svc>-baseline`. Everything created is owned
 * by the Canary, so deleting the Canary deletes it and the operator never needs to.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../config/canonical-json.js';
import type { DeploymentSpec } from '../../config/app-deployment.js';
import type { VersionRole } from '../target.js';

/** Annotation on the Deployments the operator creates: the revision of the template they run. */
export const REVISION_ANNOTATION = 'aviary.dev/revision';
/** Label on everything the operator creates: the Canary it belongs to. */
export const CANARY_LABEL = 'aviary.dev/canary';

/** The revision of a pod template: a short hash of its canonical JSON (Flagger's `lastAppliedSpec`). */
export function templateRevision(template: Readonly<Record<string, unknown>>): string {
  return createHash('sha256').update(canonicalJson(template)).digest('hex').slice(0, 16);
}

/** The Deployment that runs `role`: the target itself for the canary. */
export function deploymentName(spec: DeploymentSpec, role: VersionRole): string {
  return role === 'canary' ? spec.targetName : `${spec.targetName}-${role}`;
}

/** The selector labels of `role`'s pods: the target's, suffixed for the copies. */
export function roleSelector(spec: DeploymentSpec, role: VersionRole): Record<string, string> {
  if (role === 'canary') return { ...spec.selector };
  return Object.fromEntries(Object.entries(spec.selector).map(([k, v]) => [k, `${v}-${role}`]));
}

function ownerReference(spec: DeploymentSpec) {
  return {
    apiVersion: spec.owner.apiVersion,
    kind: spec.owner.kind,
    name: spec.owner.name,
    uid: spec.owner.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

function metadataOf(spec: DeploymentSpec, name: string) {
  return {
    name,
    namespace: spec.namespace,
    labels: { [CANARY_LABEL]: spec.owner.name },
    ownerReferences: [ownerReference(spec)],
  };
}

/**
 * The Deployment the operator owns for `role` (`primary` or `baseline`), running `spec`'s
 * template with `replicas`. Its pods carry the role's selector labels instead of the target's.
 */
export function ownedDeployment(spec: DeploymentSpec, role: 'primary' | 'baseline', replicas: number) {
  const template = spec.template as {
    metadata?: { labels?: Record<string, string> } & Record<string, unknown>;
  };
  const selector = roleSelector(spec, role);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      ...metadataOf(spec, deploymentName(spec, role)),
      annotations: { [REVISION_ANNOTATION]: templateRevision(spec.template) },
    },
    spec: {
      replicas,
      selector: { matchLabels: selector },
      template: {
        ...spec.template,
        metadata: { ...template.metadata, labels: { ...template.metadata?.labels, ...selector } },
      },
    },
  };
}

/**
 * The field manager of the target's scale: it only ever applies `spec.replicas`, so applying
 * it never takes away a field someone else's object needs (the main manager applies whole
 * objects the operator owns).
 */
export const SCALE_FIELD_MANAGER = 'aviary-scale';

/** Scales the target Deployment: the one field of the user's object the operator sets ({@link SCALE_FIELD_MANAGER}). */
export function targetScale(spec: DeploymentSpec, replicas: number) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: spec.targetName, namespace: spec.namespace },
    spec: { replicas },
  };
}

/** Where a router sends `role`'s traffic: its Service `<svc>-<role>` (Gateway API `backendRefs`). */
export function roleServiceRef(spec: DeploymentSpec, role: VersionRole) {
  return { name: `${spec.service.name}-${role}`, namespace: spec.namespace, port: spec.service.port };
}

/** The Service of `role` (`<svc>-<role>`), or the apex `<svc>` (selecting the primary) for `apex`. */
export function serviceObject(spec: DeploymentSpec, role: VersionRole | 'apex') {
  const { name, port, targetPort, portName } = spec.service;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadataOf(spec, role === 'apex' ? name : `${name}-${role}`),
    spec: {
      type: 'ClusterIP',
      selector: roleSelector(spec, role === 'apex' ? 'primary' : role),
      ports: [{ name: portName, port, targetPort, protocol: 'TCP' }],
    },
  };
}
