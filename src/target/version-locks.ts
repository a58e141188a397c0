/**
 * Serialised changes per version: two changes to one app and role (an `ensureVersion` and a
 * `scale`, say) run one after the other, never interleaved, while other versions change in
 * parallel.
 */

/** The tail of each version's queue of changes, by key. */
export class VersionLocks {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Runs `body` once every change queued earlier under `key` has settled, whatever its outcome. */
  async run<T>(key: string, body: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(body);
    this.#tails.set(key, run);
    try {
      return await run;
    } finally {
      if (this.#tails.get(key) === run) this.#tails.delete(key);
    }
  }

  /** Settles once every change queued so far has settled. */
  async settled(): Promise<void> {
    await Promise.allSettled(this.#tails.values());
  }
}
