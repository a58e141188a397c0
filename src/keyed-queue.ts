/**
 * One piece of work at a time per key: work queued under a key runs after everything queued
 * before it under that key has settled (resolved or rejected), while different keys proceed
 * independently. The process target serialises changes per version with it, the release
 * manager its applies per app.
 */

/** Work queued per key; a key's queue is dropped once it runs empty. */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Runs `body` once the work queued before it under `key` has settled; settles as `body` does. */
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

  /** Settles once the work queued so far, under every key, has settled. Never rejects. */
  async settled(): Promise<void> {
    await Promise.allSettled(this.#tails.values());
  }
}
