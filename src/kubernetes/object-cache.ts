/**
 * What the operator reads, it reads from memory: one list-and-watch cache per kind and
 * namespace (an informer), so a controller ticking every second per Canary costs the API
 * server nothing between changes (issue 13's "no hot loops"). A watch that ends with an
 * error (the API server restarted, a network error) is started again after a short backoff
 * from the last resourceVersion seen; one the API server answers with 410 Gone (that
 * resourceVersion compacted away, or older than a restarted API server's watch cache) lists
 * everything again, as client-go's reflector does, so the cache converges on what the server
 * holds. Both are counted in `aviary_kube_watch_restarts_total` (`KubeApi.watchRestarts`).
 * Writes never go through here: they are `KubeApi` calls.
 */
import {
  ListWatch,
  Watch,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type ObjectCache,
} from '@kubernetes/client-node';
import type { KubeApi } from './kube-api.js';
import { statusOf } from './kube-failures.js';
import { pluralOf } from './kube-names.js';

/** First-list answers that another try will not change: unauthenticated, forbidden, no such resource. */
const REFUSED: ReadonlySet<number> = new Set([401, 403, 404]);

/** A kind to cache: its list path under the API server, e.g. `/apis/apps/v1/namespaces/ns/deployments`. */
export interface CachedKind {
  readonly apiVersion: string;
  readonly kind: string;
  /** Namespace watched; undefined watches every namespace. */
  readonly namespace?: string;
}

/** The REST path of a kind's collection (core `v1` under /api, groups under /apis). */
export function collectionPath(apiVersion: string, plural: string, namespace?: string): string {
  const root = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return namespace === undefined ? `${root}/${plural}` : `${root}/namespaces/${namespace}/${plural}`;
}

export { pluralOf };

/** Options of an {@link ObjectCacheOf}. */
export interface ObjectCacheOptions {
  /** Wait before starting a watch again after it ended with an error; default 1 s. */
  readonly restartMs?: number;
  /** Told each time the watch ended and is started again (for events and tests). */
  readonly onRestart?: (error: unknown) => void;
  /**
   * Drops, in place, what the operator never reads of a cached object, before it is stored
   * (client-go's transform function). `metadata.managedFields` always goes: server-side apply
   * makes it the largest part of most objects.
   */
  readonly trim?: (object: KubernetesObject) => void;
}

/**
 * client-node's watch, telling `onExpired` of a 410 Gone, whether the API server answers the
 * watch request with it or, as its watch cache does, with an ERROR event carrying it. The
 * informer itself then clears its resourceVersion and lists again.
 */
class ExpiryAwareWatch extends Watch {
  constructor(
    config: KubeConfig,
    private readonly onExpired: () => void,
  ) {
    super(config);
  }

  override watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, object: KubernetesObject, watchObject?: unknown) => void,
    done: (error: unknown) => void,
  ): Promise<AbortController> {
    return super.watch(
      path,
      query,
      (phase, object, watchObject) => {
        if (phase === 'ERROR' && (object as { code?: number }).code === 410) this.onExpired();
        callback(phase, object as KubernetesObject, watchObject);
      },
      (error: unknown) => {
        if ((error as { statusCode?: number } | null)?.statusCode === 410) this.onExpired();
        done(error);
      },
    );
  }
}

/** Removes `metadata.managedFields` and whatever `trim` removes, in place. */
function trimmer(trim: ObjectCacheOptions['trim']): (object: KubernetesObject) => void {
  return (object) => {
    if (object.metadata !== undefined) delete object.metadata.managedFields;
    trim?.(object);
  };
}

/** An informer over one kind: `get` and `list` answer from memory once `synced`. */
export class ObjectCacheOf<T extends KubernetesObject> {
  readonly #informer: Informer<T> & ObjectCache<T>;
  readonly #listeners = new Set<(object: T, verb: 'add' | 'update' | 'delete') => void>();
  #stopped = false;
  #restartTimer: NodeJS.Timeout | undefined;
  readonly #start: () => Promise<void>;
  /**
   * Resolves once the cache holds a complete list. Rejects when the first list is refused for
   * good (401, 403: the ServiceAccount lacks a verb; 404: the CRD is not installed), naming
   * the kind and the API server's reason, rather than resolving over an empty cache; other
   * failures (the API server down) are tried again until a list succeeds.
   */
  readonly synced: Promise<void>;

  constructor(
    api: KubeApi,
    readonly what: CachedKind,
    options: ObjectCacheOptions = {},
  ) {
    const path = collectionPath(what.apiVersion, pluralOf(what.kind), what.namespace);
    let listed = false;
    const first: { resolve?: () => void; reject?: (error: unknown) => void } = {};
    const trim = trimmer(options.trim);
    this.synced = new Promise<void>((resolve, reject) => Object.assign(first, { resolve, reject }));
    // Handled by whoever awaits it; not an unhandled rejection when nobody does yet.
    this.synced.catch(() => undefined);
    const resource = pluralOf(what.kind);
    const watch = new ExpiryAwareWatch(api.config, () => api.watchRestarts.count(resource, 'expired'));
    this.#informer = new ListWatch<T>(
      path,
      watch,
      async () => {
        // The informer lists, then watches from the list's resourceVersion: the watch replays
        // nothing older than the list and misses nothing newer.
        try {
          const { items, resourceVersion } = await api.listWithVersion<T>(
            what.apiVersion,
            what.kind,
            what.namespace,
          );
          listed = true;
          items.forEach(trim);
          return {
            apiVersion: what.apiVersion,
            kind: `${what.kind}List`,
            metadata: { resourceVersion },
            items,
          };
        } catch (error) {
          if (!listed && REFUSED.has(statusOf((error as Error).cause) ?? 0)) first.reject?.(error);
          throw error;
        }
      },
      false,
    );
    // The informer's start resolves even when its list failed; only a listed cache is synced.
    this.#start = () =>
      this.#informer.start().then(() => {
        if (listed) first.resolve?.();
      });
    // The informer stores the very object it hands its first listener: trimmed here, it is
    // trimmed in the cache too, before any other listener sees it.
    this.#informer.on('add', trim);
    this.#informer.on('update', trim);
    for (const verb of ['add', 'update', 'delete'] as const) {
      this.#informer.on(verb, (object) => {
        for (const listener of this.#listeners) listener(object, verb);
      });
    }
    this.#informer.on('error', (error: unknown) => {
      if (this.#stopped) return;
      api.watchRestarts.count(resource, 'error');
      options.onRestart?.(error);
      this.#restartTimer = setTimeout(() => {
        if (!this.#stopped) void this.#start().catch(() => undefined);
      }, options.restartMs ?? 1_000);
    });
    void this.#start().catch(() => undefined);
  }

  /** The object, from memory. */
  get(name: string, namespace?: string): T | undefined {
    return this.#informer.get(name, namespace);
  }

  /** Objects in `namespace` (every one when undefined) whose labels include `labels`. */
  list(namespace?: string, labels: Readonly<Record<string, string>> = {}): T[] {
    return this.#informer
      .list(namespace)
      .filter((o) => Object.entries(labels).every(([k, v]) => o.metadata?.labels?.[k] === v));
  }

  /** Calls `listener` on every change after it is added; returns a function that removes it. */
  onChange(listener: (object: T, verb: 'add' | 'update' | 'delete') => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops watching; idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#restartTimer);
    await this.#informer.stop();
  }
}
