/**
 * The operator's one way to the Kubernetes API (docs/adr/0019-kubernetes-operator.md): a
 * kubeconfig loaded from a file, `$KUBECONFIG`/~/.kube/config or the pod's service account,
 * and the calls the operator's edges make — server-side apply with Aviary's field manager,
 * read, list, delete and watch — over `@kubernetes/client-node` 1.x. A 404 reads as
 * undefined, not an error; every other failure is an `AviaryError` naming the object. Each
 * request is counted by verb and resource (`metricsText`), so an operator's load on the API
 * server can be read off the operator itself.
 */
import {
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  Watch,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { AviaryError } from '../errors.js';
import { describeRef, kubeFailure, refOf, statusOf, type ObjectRef } from './kube-failures.js';
import { sendMergePatch } from './merge-patch-request.js';
import { pluralOf } from './kube-names.js';
import { RequestCounter, type KubeRequestCount, type KubeVerb } from './request-counter.js';
import { WatchRestartCounter } from './request-counter.js';

export { WRITE_VERBS, type KubeRequestCount, type KubeVerb } from './request-counter.js';
export type { ObjectRef } from './kube-failures.js';

/** The field manager of every apply Aviary makes; `kubectl get --show-managed-fields` shows it. */
export const FIELD_MANAGER = 'aviary';

/** Where the kubeconfig comes from. */
export interface KubeApiOptions {
  /** A kubeconfig file; default `$KUBECONFIG`, ~/.kube/config, or in-cluster when run in a pod. */
  readonly kubeconfig?: string;
  /** Called before every write; throws when this process must not write (a lost leader, ADR 0032). */
  readonly beforeWrite?: () => void;
}

/** Loads the kubeconfig as `options` says. */
export function loadKubeConfig(options: KubeApiOptions = {}): KubeConfig {
  const config = new KubeConfig();
  if (options.kubeconfig !== undefined) config.loadFromFile(options.kubeconfig);
  else config.loadFromDefault();
  if (config.getCurrentCluster() === null) {
    throw new AviaryError(
      'AVIARY_KUBE_CONFIG',
      `no Kubernetes cluster in the kubeconfig${options.kubeconfig === undefined ? ' ($KUBECONFIG, ~/.kube/config or the pod service account)' : ` ${options.kubeconfig}`}: expected a current context with a cluster`,
    );
  }
  return config;
}

/** The calls the operator makes; one instance per kubeconfig. */
export class KubeApi {
  readonly config: KubeConfig;
  private readonly objects: KubernetesObjectApi;
  readonly #requests = new RequestCounter();
  /** Restarts of the watches made through this client (object-cache.ts counts them). */
  readonly watchRestarts = new WatchRestartCounter();
  readonly #beforeWrite: () => void;

  constructor(options: KubeApiOptions | KubeConfig = {}) {
    this.config = options instanceof KubeConfig ? options : loadKubeConfig(options);
    this.#beforeWrite = (options instanceof KubeConfig ? undefined : options.beforeWrite) ?? (() => {});
    this.objects = KubernetesObjectApi.makeApiClient(this.config);
  }

  /**
   * Server-side apply of `object` with Aviary's field manager (or `fieldManager`), forcing
   * conflicts: Aviary owns the fields it sets (weights, replicas of the objects it created), as
   * Flagger does. Fields the manager set before and leaves out now are removed: a manager that
   * sets one field of someone else's object must only ever apply that field.
   */
  async apply<T extends KubernetesObject>(object: T, fieldManager = FIELD_MANAGER): Promise<T> {
    return this.#patch('apply', object, PatchStrategy.ServerSideApply, fieldManager, true);
  }

  /** One counted patch of `object` with `strategy`; a refusal names the verb and the object. */
  async #patch<T extends KubernetesObject>(
    verb: 'apply' | 'patch',
    object: T,
    strategy: PatchStrategy,
    fieldManager: string,
    force: boolean | undefined,
  ): Promise<T> {
    this.#beforeWrite();
    this.#count(verb, pluralOf(object.kind ?? ''));
    try {
      return await this.objects.patch(object, undefined, undefined, fieldManager, force, strategy);
    } catch (error) {
      throw kubeFailure(verb, refOf(object), error);
    }
  }

  /** The object, or undefined when it does not exist. */
  async read<T extends KubernetesObject>(ref: ObjectRef): Promise<T | undefined> {
    this.#count('get', pluralOf(ref.kind));
    try {
      const header = {
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        metadata: { name: ref.name, ...(ref.namespace !== undefined ? { namespace: ref.namespace } : {}) },
      };
      const object: KubernetesObject = await this.objects.read(header);
      return object as T;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw kubeFailure('read', ref, error);
    }
  }

  /** Objects of a kind in a namespace (all namespaces when undefined), optionally by label selector. */
  async list<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace?: string,
    labelSelector?: string,
  ): Promise<T[]> {
    return (await this.listWithVersion<T>(apiVersion, kind, namespace, labelSelector)).items;
  }

  /** {@link list} with the list's resourceVersion, where a watch of the same objects starts. */
  async listWithVersion<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    namespace?: string,
    labelSelector?: string,
  ): Promise<{ items: T[]; resourceVersion: string }> {
    this.#count('list', pluralOf(kind));
    try {
      const answer = await this.objects.list(
        apiVersion,
        kind,
        namespace,
        undefined,
        undefined,
        undefined,
        undefined,
        labelSelector,
      );
      return { items: answer.items as T[], resourceVersion: answer.metadata?.resourceVersion ?? '' };
    } catch (error) {
      throw kubeFailure(
        'list',
        { apiVersion, kind, name: labelSelector ?? '*', ...(namespace !== undefined ? { namespace } : {}) },
        error,
      );
    }
  }

  /**
   * Deletes the object if it exists and, when `uid` is given, only if it is still that object
   * (a precondition: never a namesake created meanwhile). Resolves false when there was none.
   */
  async delete(ref: ObjectRef, uid?: string): Promise<boolean> {
    this.#beforeWrite();
    this.#count('delete', pluralOf(ref.kind));
    try {
      await this.objects.delete(
        {
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          metadata: { name: ref.name, ...(ref.namespace !== undefined ? { namespace: ref.namespace } : {}) },
        },
        undefined,
        undefined,
        undefined,
        undefined,
        'Background',
        uid !== undefined ? { preconditions: { uid } } : undefined,
      );
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw kubeFailure('delete', ref, error);
    }
  }

  /**
   * A JSON merge patch of the object `patch` names (apiVersion, kind, metadata.name and
   * namespace): `null` removes a field. With `metadata.resourceVersion` in `patch` it applies
   * only to that version of the object (HTTP 409 otherwise), e.g. to remove an annotation
   * the operator has just acted on but not a newer value someone wrote meanwhile.
   */
  async mergePatch<T extends KubernetesObject>(patch: T): Promise<T> {
    return this.#patch('patch', patch, PatchStrategy.MergePatch, FIELD_MANAGER, undefined);
  }

  /**
   * A JSON merge patch of an object's `status` subresource at `path` (e.g.
   * `/apis/aviary.dev/v1alpha1/namespaces/ns/canaries/name`): it carries no resourceVersion, so
   * it never conflicts; fields left out are kept. Transient answers (409, 429, 5xx) are tried
   * again up to `attempts` times with a growing pause.
   */
  async patchStatus(
    path: string,
    ref: ObjectRef,
    status: Record<string, unknown>,
    attempts = 4,
  ): Promise<void> {
    const cluster = this.config.getCurrentCluster();
    if (cluster === null) throw new AviaryError('AVIARY_KUBE_CONFIG', 'no current cluster in the kubeconfig');
    const url = new URL(`${path}/status`, cluster.server);
    const body = JSON.stringify({ status });
    for (let attempt = 1; ; attempt++) {
      // The resource is the path's segment before the object's name: canaries/status.
      this.#beforeWrite();
      this.#count('patch', `${path.split('/').at(-2) ?? ''}/status`);
      const answer = await sendMergePatch(this.config, url, body);
      if (answer.status >= 200 && answer.status < 300) return;
      const transient =
        answer.status === 0 || answer.status === 409 || answer.status === 429 || answer.status >= 500;
      if (!transient || attempt >= attempts) {
        let message = answer.text;
        try {
          message = (JSON.parse(answer.text) as { message?: string }).message ?? answer.text;
        } catch {
          // not a Status document
        }
        throw new AviaryError(
          'AVIARY_KUBE_API',
          `patch status of ${describeRef(ref)}: ${message} (HTTP ${answer.status})`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }

  /** A watch of `path` (e.g. `/apis/apps/v1/namespaces/ns/deployments`); see `Watch.watch`. */
  watch(
    path: string,
    query: Record<string, string | number | boolean>,
    onEvent: (type: string, object: KubernetesObject) => void,
    onDone: (error?: unknown) => void,
  ): Promise<AbortController> {
    this.#count('watch', path.split('/').at(-1) ?? '');
    return new Watch(this.config).watch(path, query, onEvent, onDone);
  }

  /**
   * Requests sent through this client since it was made, by verb and resource, retries
   * included and whatever their answer. The list-and-watch caches' lists are counted; their
   * long-lived watches, made by the informer itself, are not.
   */
  requestCounts(): KubeRequestCount[] {
    return this.#requests.counts();
  }

  /** {@link requestCounts} and {@link watchRestarts} as Prometheus text. */
  metricsText(): string {
    return this.#requests.metricsText() + this.watchRestarts.metricsText();
  }

  #count(verb: KubeVerb, resource: string): void {
    this.#requests.count(verb, resource);
  }
}
