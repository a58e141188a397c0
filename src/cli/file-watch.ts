/**
 * Following a file that a user edits: the one watcher behind `aviary up` (its aviary.yaml),
 * `aviary apply --watch` (the release file) and `aviary proxy --watch` (the proxy
 * configuration). Editors save in three ways, and each must be noticed at every save, not
 * only the first:
 * - in place (truncate, then write), sometimes in several writes;
 * - by rename: a temporary file written beside the original and renamed over it (`sed -i`,
 *   `mv`, vim, VS Code); a watch on the file itself ends with the first such save, because
 *   the watched inode is gone;
 * - by delete, then create.
 *
 * So the file's directory is watched (with chokidar, which re-arms and coalesces a
 * delete-then-add into one change) and only events for the file's own name count; editors'
 * temporary files (`.aviary.yaml.swp`, `aviary.yaml~`, `4913`, …) are other names and are
 * ignored. Events within `debounceMs` of each other are one save.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { watch, type FSWatcher } from 'chokidar';

/** Options of {@link watchFile}. */
export interface WatchFileOptions {
  /** Quiet time after the last event before the file is read: a burst of events is one save. Default 100 ms. */
  readonly debounceMs?: number;
  /** Call `onSave` once when the watch starts (apply the file as it is now). Default true. */
  readonly callAtStart?: boolean;
  /** Poll the directory instead of using file-system events (e.g. network file systems). Default false. */
  readonly usePolling?: boolean;
  /** Called once the watch is armed: every save from then on is seen. */
  readonly onReady?: () => void;
  /**
   * Without a call at start: the {@link fileVersion} of the content already applied, read
   * before it was. A save made since, even before the watch is armed, is then seen. Default:
   * the file as it is when the watch starts.
   */
  readonly appliedVersion?: string | undefined;
}

/**
 * What identifies one saved version of the file: its content and its modification time;
 * undefined while the file is missing.
 */
export async function fileVersion(file: string): Promise<string | undefined> {
  try {
    const [info, content] = await Promise.all([stat(file), readFile(file)]);
    return `${info.mtimeMs}:${createHash('sha256').update(content).digest('hex')}`;
  } catch {
    // Missing between a delete and the create that follows: the create is the save.
    return undefined;
  }
}

/**
 * Calls `onSave` after every save of `file` (and once at start, unless `callAtStart` is
 * false) until `signal` aborts; resolves once the watch is closed and the last call ended.
 * Calls never overlap. A save is a new content or modification time of the file: a save
 * that leaves both as they were is not reported again. `onSave` reports its own failures;
 * a rejection does not stop the watch.
 */
export async function watchFile(
  file: string,
  onSave: () => Promise<void>,
  signal: AbortSignal,
  {
    debounceMs = 100,
    callAtStart = true,
    usePolling = false,
    onReady,
    appliedVersion,
  }: WatchFileOptions = {},
): Promise<void> {
  const path = resolve(file);
  const directory = dirname(path);
  // Without a call at start, the file as it is now is taken as applied; a save made while the
  // watch is being armed differs from it and is seen by the check once armed.
  let lastVersion = callAtStart ? undefined : (appliedVersion ?? (await fileVersion(path)));
  let queue = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const check = (): void => {
    queue = queue
      .then(async () => {
        const version = await fileVersion(path);
        if (version === undefined || version === lastVersion || signal.aborted) return;
        lastVersion = version;
        await onSave();
      })
      .catch(() => undefined);
  };
  const soon = (): void => {
    clearTimeout(timer);
    timer = setTimeout(check, debounceMs);
  };
  const open = (polling: boolean): FSWatcher => {
    const watcher = watch(directory, {
      depth: 0,
      ignoreInitial: true,
      // Only the file itself is looked at; other names in its directory are never read.
      ignored: (candidate: string) => candidate !== directory && candidate !== path,
      usePolling: polling,
      interval: 100,
    });
    watcher.on('all', (_event, changed) => {
      if (resolve(changed) === path) soon();
    });
    return watcher;
  };
  let watcher = open(usePolling);
  watcher.on('error', () => {
    // Events unavailable (e.g. out of inotify watches): fall back to polling.
    if (signal.aborted) return;
    const failed = watcher;
    watcher = open(true);
    watcher.on('error', () => undefined);
    void failed.close();
  });
  await new Promise<void>((ready) => watcher.once('ready', () => ready()));
  check();
  onReady?.();
  await new Promise<void>((done) => {
    if (signal.aborted) done();
    else signal.addEventListener('abort', () => done(), { once: true });
  });
  clearTimeout(timer);
  await watcher.close();
  await queue;
}
