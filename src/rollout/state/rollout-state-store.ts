/**
 * Where the controller keeps each app's rollout state and recent events between runs. The
 * controller sees only this interface: the state journal on disk (ADR 0009) is the embedded
 * implementation; a Kubernetes operator keeps the same document in a Canary's status
 * subresource.
 */
import type { StoredState } from './state-journal.js';

export type { StoredState } from './state-journal.js';

/**
 * Durable per-app state with its recent events. Saves of different apps may be batched;
 * a resolved `save` is durable.
 */
export interface RolloutStateStore<S, E> {
  /** Everything saved, by app. */
  loadAll(): Promise<Map<string, StoredState<S, E>>>;
  /**
   * Replaces the app's state document and appends `events` (the new ones only). The store
   * may keep `state` to compare with the next one: callers hand a new object each time.
   */
  save(app: string, state: S, events?: readonly E[]): Promise<void>;
  /** Forgets the app. */
  remove(app: string): Promise<void>;
  /** Resolves when every accepted save and background work has finished. */
  settled(): Promise<void>;
}
