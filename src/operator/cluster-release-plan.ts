/**
 * The pure half of a release apply on Kubernetes: which entries an edit starts, changes,
 * keeps and removes, from the Deployments and Services the app's release has now (found by
 * label) and the release last applied. A changed entry is one whose image or replicas differ:
 * its Deployment rolls it over; a removed one is every labelled object no longer listed,
 * including one a previous run was still draining.
 */
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import type { ReleaseEntry } from '../config/release-schema.js';
import type { ReleaseChanges } from '../rollout/releases/release-plan.js';
import { imageOf, RELEASE_ENTRY_LABEL, type AppliedRelease } from './release-objects.js';
import type { ReleaseTemplate } from './release-template.js';

/** What exists of an app's release now. */
export interface ClusterReleaseNow {
  readonly deployments: readonly V1Deployment[];
  readonly services: readonly V1Service[];
  readonly previous: AppliedRelease | undefined;
}

/** The entry an object of a release stands for (its label), '' when it has none. */
export function entryNameOf(object: V1Deployment | V1Service): string {
  return object.metadata?.labels?.[RELEASE_ENTRY_LABEL] ?? '';
}

/** Started, updated, unchanged and removed entries of an edit, by name. */
export function clusterReleaseChanges(
  entries: readonly ReleaseEntry[],
  template: ReleaseTemplate,
  now: ClusterReleaseNow,
): ReleaseChanges {
  const running = new Map(now.deployments.map((d) => [entryNameOf(d), d]));
  const started: string[] = [];
  const updated: string[] = [];
  const unchanged: string[] = [];
  for (const entry of entries) {
    const current = running.get(entry.name);
    if (current === undefined) started.push(entry.name);
    else if (
      current.spec?.template.spec?.containers[0]?.image !== imageOf(template, entry) ||
      current.spec?.replicas !== template.replicas
    )
      updated.push(entry.name);
    else unchanged.push(entry.name);
  }
  const listed = new Set(entries.map((e) => e.name));
  const known = [...running.keys(), ...now.services.map(entryNameOf), ...(now.previous?.draining ?? [])];
  const removed = [...new Set(known)].filter((name) => name !== '' && !listed.has(name));
  return { started, updated, unchanged, removed };
}
