/**
 * A run's log: `<dir>/<id>.log`, appended to by the queue, the flows and the build runner
 * (each append is a whole write with O_APPEND, so writers never overwrite one another), and
 * read back from the start, optionally following what is appended until the run ends, for
 * `GET /runs/{id}/log?follow`. Following wakes on inotify events of the directory (fs.watch)
 * and on the run's state changes, never on a timer.
 */
import { watch, type FSWatcher } from 'node:fs';
import { appendFile, open } from 'node:fs/promises';
import { isTerminal } from './run-record.js';
import type { RunStore } from './run-store.js';

const READ_CHUNK_BYTES = 64 * 1024;

/** Options of {@link readRunLog}. */
export interface ReadRunLogOptions {
  /** Keep yielding appended chunks until the run is in a final state. Default false. */
  readonly follow?: boolean;
  /** Stops following (the iterator returns). */
  readonly signal?: AbortSignal;
}

/** Appends `text` (a newline added) to run `id`'s log. The caller masks secrets first. */
export async function appendRunLog(store: RunStore, id: string, text: string): Promise<void> {
  await appendFile(store.logPath(id), `${text}\n`, { mode: 0o600 });
}

/** A wake-up that is not lost when it comes before the wait. */
class Wakeup {
  #pending = false;
  #resolve: (() => void) | undefined;

  notify(): void {
    this.#pending = true;
    this.#resolve?.();
  }

  async wait(): Promise<void> {
    if (!this.#pending) await new Promise<void>((resolve) => (this.#resolve = resolve));
    this.#pending = false;
    this.#resolve = undefined;
  }
}

async function readFrom(path: string, offset: number): Promise<Buffer> {
  const file = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (file === undefined) return Buffer.alloc(0);
  try {
    const buffer = Buffer.alloc(READ_CHUNK_BYTES);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

/**
 * The log of run `id`, chunk by chunk (raw bytes; a chunk may end inside a UTF-8 character).
 * Without `follow` it ends at the end of the file; with it, once the run has ended and every
 * byte written before that has been yielded.
 * @throws RunError RUN_NOT_FOUND
 */
export async function* readRunLog(
  store: RunStore,
  id: string,
  options: ReadRunLogOptions = {},
): AsyncGenerator<Buffer, void, undefined> {
  store.require(id);
  const path = store.logPath(id);
  const wakeup = new Wakeup();
  const name = `${id}.log`;
  const onRun = (run: { id: string }): void => {
    if (run.id === id) wakeup.notify();
  };
  const onAbort = (): void => wakeup.notify();
  let watcher: FSWatcher | undefined;
  if (options.follow === true) {
    store.on('run', onRun);
    options.signal?.addEventListener('abort', onAbort);
    watcher = watch(store.dir, (_event, file) => {
      if (file === null || file === name) wakeup.notify();
    });
    watcher.on('error', onAbort);
  }
  try {
    let offset = 0;
    for (;;) {
      // The state is read before the file: whatever was written before the run ended is then read too.
      const ended = isTerminal(store.get(id)?.state ?? 'failed');
      const chunk = await readFrom(path, offset);
      if (chunk.length > 0) {
        offset += chunk.length;
        yield chunk;
        continue;
      }
      if (options.follow !== true || ended || options.signal?.aborted === true) return;
      await wakeup.wait();
    }
  } finally {
    watcher?.close();
    store.off('run', onRun);
    options.signal?.removeEventListener('abort', onAbort);
  }
}
