/**
 * One piece of work at a time per app: the release manager's applies and restores of an app
 * run in the order they were asked for, each after the previous one settled (whether it
 * resolved or rejected), while different apps proceed independently.
 */

/** Work queued per app; the queue of an app is dropped once it runs empty. */
export class PerAppQueue {
  readonly #last = new Map<string, Promise<unknown>>();

  /** Runs `body` once the work queued before it for `app` has settled; settles as `body` does. */
  run<T>(app: string, body: () => Promise<T>): Promise<T> {
    const previous = this.#last.get(app) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(body);
    this.#last.set(app, run);
    return run.finally(() => {
      if (this.#last.get(app) === run) this.#last.delete(app);
    });
  }

  /** Resolves once the work queued now, for every app, has settled. Never rejects. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.#last.values()]);
  }
}
