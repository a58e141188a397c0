/**
 * A replica's stdout and stderr as two append-only files in the log directory, so that its
 * output does not depend on the controller's life. A pipe dies with the controller that reads
 * it, and most runtimes die at their next write to it (EPIPE, SIGPIPE); a file outlives the
 * controller. The controller opens the files, hands their descriptors to the child and polls
 * them for new bytes, which become lines of the version log. A controller that adopts the
 * replica after a crash resumes at the files' end (docs/adr/0013-replica-output-files.md).
 */
import { closeSync, fstatSync, openSync, readSync, rmSync, truncateSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { LineSink, VersionLog } from './version-log.js';

/** Bytes read from a file in one `readSync`. */
const READ_CHUNK_BYTES = 64 * 1024;

/** Where one replica's output goes and how it is followed. */
export interface ReplicaOutputOptions {
  /** Directory of the files (the target's `<stateDir>/logs`). */
  readonly logDir: string;
  readonly app: string;
  readonly role: string;
  readonly revision: string;
  readonly replica: number;
  /** Receives every line of both streams. */
  readonly log: VersionLog;
  /** Time between two reads of new bytes. */
  readonly pollMs: number;
  /** A file that has grown past this size is emptied once every byte of it has been read. */
  readonly maxFileBytes: number;
  /** Called when stderr mentions EADDRINUSE: the process lost the race for its port. */
  readonly onAddressInUse: () => void;
}

/** The descriptors a child writes to; the caller closes them once the child is spawned. */
export interface ChildOutputDescriptors {
  readonly stdout: number;
  readonly stderr: number;
}

/**
 * Both output files of one replica slot (app, role, revision, replica), across every run of
 * its process: a restarted process appends to the same files, and one poll timer follows them.
 */
export class ReplicaOutput {
  readonly #stdout: OutputFileTail;
  readonly #stderr: OutputFileTail;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(private readonly options: ReplicaOutputOptions) {
    const { log, replica, revision } = options;
    this.#stdout = new OutputFileTail(this.#pathOf('stdout'), log.lineSink(replica, revision, 'stdout'));
    this.#stderr = new OutputFileTail(this.#pathOf('stderr'), log.lineSink(replica, revision, 'stderr'));
  }

  /** Paths of the stdout and stderr files. */
  get paths(): readonly [string, string] {
    return [this.#stdout.path, this.#stderr.path];
  }

  /**
   * Opens both files for appending and starts following them, so nothing the child writes is
   * missed. Security: the files are created with mode 0600, as output may hold secrets.
   * Throws when a file cannot be opened.
   */
  openForChild(): ChildOutputDescriptors {
    const stdout = openSync(this.#stdout.path, 'a', 0o600);
    let stderr: number;
    try {
      stderr = openSync(this.#stderr.path, 'a', 0o600);
    } catch (error) {
      closeSync(stdout);
      throw error;
    }
    this.follow();
    return { stdout, stderr };
  }

  /**
   * Starts following the files from their current end, unless already following: an adopted
   * process's output from before adoption stays in the files but not in the version log.
   */
  follow(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#stdout.skipToEnd();
    this.#stderr.skipToEnd();
    this.#timer = setInterval(() => this.drain(), this.options.pollMs);
    this.#timer.unref();
  }

  /**
   * Reads every byte written so far into the version log, now. Reads are synchronous, so a
   * caller handling the process's exit sees its last lines (an EADDRINUSE, say) before it
   * decides, and a timer read never overlaps another read of the same file.
   */
  drain(): void {
    if (this.#closed) return;
    const { maxFileBytes, onAddressInUse } = this.options;
    this.#stdout.read(maxFileBytes);
    if (this.#stderr.read(maxFileBytes).includes('EADDRINUSE')) onAddressInUse();
  }

  /**
   * Stops following after a last read, records a final partial line, and deletes the files
   * when `remove` is set (the process is gone for good) or keeps them for a controller that
   * will adopt the process.
   */
  close(options: { readonly remove: boolean }): void {
    if (this.#closed) return;
    clearInterval(this.#timer);
    this.drain();
    this.#closed = true;
    this.#stdout.end(options.remove);
    this.#stderr.end(options.remove);
  }

  #pathOf(stream: 'stdout' | 'stderr'): string {
    const { logDir, app, role, revision, replica } = this.options;
    return join(logDir, `${app}-${role}-${revision}-r${replica}.${stream}`);
  }
}

/**
 * Deletes the output files in `logDir` that no replica follows: those of replicas that died
 * while no controller was running. Resolves with the paths deleted.
 */
export async function removeUnfollowedOutput(
  logDir: string,
  followed: ReadonlySet<string>,
): Promise<string[]> {
  const names = await readdir(logDir).catch(() => []);
  const stale = names
    .filter((name) => /\.(stdout|stderr)$/.test(name))
    .map((name) => join(logDir, name))
    .filter((path) => !followed.has(path));
  await Promise.all(stale.map((path) => rm(path, { force: true })));
  return stale;
}

/** One output file, read from the last offset. */
class OutputFileTail {
  #offset = 0;
  readonly #decoder = new StringDecoder('utf8');
  readonly #buffer = Buffer.alloc(READ_CHUNK_BYTES);

  constructor(
    readonly path: string,
    private readonly sink: LineSink,
  ) {}

  skipToEnd(): void {
    this.#offset = this.#withFile((fd) => fstatSync(fd).size) ?? 0;
  }

  /**
   * Passes the bytes written since the last read to the sink and returns them as text. Once
   * every byte is read, a file larger than `maxFileBytes` is emptied; the child's descriptor
   * appends (O_APPEND), so its next write lands at the new end rather than past a hole.
   */
  read(maxFileBytes: number): string {
    const text = this.#withFile((fd) => {
      const size = fstatSync(fd).size;
      // Emptied by someone else (logrotate's copytruncate): start again from the top.
      if (size < this.#offset) this.#offset = 0;
      let read = '';
      while (this.#offset < size) {
        const length = Math.min(this.#buffer.length, size - this.#offset);
        const count = readSync(fd, this.#buffer, 0, length, this.#offset);
        if (count === 0) break;
        this.#offset += count;
        read += this.#decoder.write(this.#buffer.subarray(0, count));
      }
      return read;
    });
    if (text === undefined) return '';
    if (text !== '') this.sink.push(text);
    if (this.#offset > maxFileBytes) this.#empty();
    return text;
  }

  end(remove: boolean): void {
    this.sink.push(this.#decoder.end());
    this.sink.end();
    if (remove) rmSync(this.path, { force: true });
  }

  #empty(): void {
    try {
      truncateSync(this.path, 0);
      this.#offset = 0;
    } catch {
      // Deleted meanwhile: the next read finds no file.
    }
  }

  /** Runs `body` on the file opened for reading; undefined when it does not exist (yet). */
  #withFile<T>(body: (fd: number) => T): T | undefined {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return undefined;
    }
    try {
      return body(fd);
    } finally {
      closeSync(fd);
    }
  }
}
