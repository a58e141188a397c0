/**
 * The Deployments and Services of a release's entries in one namespace
 * (docs/adr/0024-releases-on-kubernetes.md): applying them, waiting until they are rolled out,
 * and deleting them. A delete touches only an object labelled as the app's release, and only
 * that object (its uid is the precondition), never a namesake made meanwhile.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { V1Deployment } from '@kubernetes/client-node';
import { targetAppOf, type ReleaseEntry } from '../config/release-schema.js';
import { AviaryError } from '../errors.js';
import type { KubeApi, ObjectRef } from '../kubernetes/kube-api.js';
import {
  belongsTo,
  entryDeployment,
  entryService,
  rolloutPendingOf,
  type AppliedRelease,
} from './release-objects.js';
import type { ReleaseTemplate } from './release-template.js';

const ENTRY_KINDS = [
  ['apps/v1', 'Deployment'],
  ['v1', 'Service'],
] as const;

/** An entry's Deployment or Service. */
export type EntryKind = (typeof ENTRY_KINDS)[number];

/** The entry objects of the releases in `namespace`. */
export class ReleaseEntryObjects {
  readonly #api: KubeApi;
  readonly #namespace: string;

  constructor(api: KubeApi, namespace: string) {
    this.#api = api;
    this.#namespace = namespace;
  }

  /** The ref of an entry's object of `kind`. */
  ref([apiVersion, kind]: EntryKind, app: string, entry: string): ObjectRef {
    return { apiVersion, kind, namespace: this.#namespace, name: targetAppOf(app, entry) };
  }

  /** `Deployment ns/name` or `Service ns/name` of an entry when one exists but is not the app's. */
  async foreign(app: string, entry: string): Promise<string | undefined> {
    for (const kind of ENTRY_KINDS) {
      const existing = await this.#api.read(this.ref(kind, app, entry));
      if (existing !== undefined && !belongsTo(existing, app))
        return `${kind[1]} ${this.#namespace}/${targetAppOf(app, entry)}`;
    }
    return undefined;
  }

  /** Applies each entry's Service and Deployment (server-side apply: unchanged ones stay as they are). */
  async apply(app: string, entries: readonly ReleaseEntry[], template: ReleaseTemplate): Promise<void> {
    for (const entry of entries) {
      await this.#api.apply(entryService(app, this.#namespace, entry.name, template));
      await this.#api.apply(entryDeployment(app, this.#namespace, entry, template));
    }
  }

  /** Deletes the entries' Deployments and Services that are the app's. */
  async delete(app: string, names: readonly string[]): Promise<void> {
    for (const name of names) {
      for (const kind of ENTRY_KINDS) {
        const ref = this.ref(kind, app, name);
        const object = await this.#api.read(ref);
        if (belongsTo(object, app)) await this.#api.delete(ref, object?.metadata?.uid);
      }
    }
  }

  /** Deletes what an edit started and puts changed entries back as the previous release ran them. */
  async undo(
    app: string,
    started: readonly string[],
    updated: readonly string[],
    previous: AppliedRelease | undefined,
  ): Promise<void> {
    await this.delete(app, started);
    for (const name of updated) {
      const entry = previous?.entries.find((e) => e.name === name);
      if (entry !== undefined && previous !== undefined)
        await this.#api.apply(entryDeployment(app, this.#namespace, entry, previous.template));
    }
  }

  /**
   * Waits until every entry's Deployment is rolled out; rejects with `AVIARY_RELEASE_NOT_READY`
   * naming the first that is not, and why, once `timeoutMs` has passed.
   */
  async waitRolledOut(
    app: string,
    names: readonly string[],
    wait: { readonly timeoutMs: number; readonly pollMs: number; readonly signal: AbortSignal },
  ): Promise<void> {
    const deadline = Date.now() + wait.timeoutMs;
    for (;;) {
      let pending: [string, string] | undefined;
      for (const name of names) {
        const deployment = await this.#api.read<V1Deployment>(this.ref(ENTRY_KINDS[0], app, name));
        const why = rolloutPendingOf(deployment);
        if (why !== undefined) {
          pending = [name, why];
          break;
        }
      }
      if (pending === undefined) return;
      if (Date.now() >= deadline)
        throw new AviaryError(
          'AVIARY_RELEASE_NOT_READY',
          `release of app ${app}: entry "${pending[0]}" (Deployment ${this.#namespace}/${targetAppOf(app, pending[0])}) not rolled out within ${wait.timeoutMs} ms: ${pending[1]}; new and changed entries were undone, the split is kept`,
        );
      await sleep(wait.pollMs, undefined, { signal: wait.signal });
    }
  }
}
