/**
 * Output of one version (app + role): the last N lines in memory for `logs()`, and every line
 * appended to `<logDir>/<app>-<role>-<revision>.log`, one file per revision so a rolled-back
 * canary's output survives for the post-mortem. Each line is prefixed with its replica and
 * stream because replicas of a version interleave.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { LogLine, LogStream, VersionRole } from '../target.js';

/** Longest line kept; a process writing without newlines cannot grow memory beyond this. */
const MAX_LINE_CHARS = 16_384;

/** Renders a line as it appears in the log file: `2025-01-01T00:00:00.000Z r0 stdout listening`. */
export function formatLogLine(line: LogLine): string {
  return `${new Date(line.at).toISOString()} r${line.replica} ${line.stream} ${line.text}`;
}

/** Where one replica's stream of output goes, piece by piece (see {@link VersionLog.lineSink}). */
export interface LineSink {
  /** Text as it arrived: any number of lines, possibly ending mid-line. */
  push(text: string): void;
  /** The stream ended: records what remains of a last line without a newline. */
  end(): void;
}

/** Ring buffer plus per-revision files for one version. */
export class VersionLog {
  readonly #ring: (LogLine | undefined)[];
  #next = 0;
  #size = 0;
  readonly #files = new Map<string, WriteStream>();
  #closed = false;

  constructor(
    private readonly options: {
      readonly logDir: string;
      readonly app: string;
      readonly role: VersionRole;
      readonly capacity: number;
      readonly now: () => number;
    },
  ) {
    this.#ring = new Array<LogLine | undefined>(Math.max(1, options.capacity));
  }

  /** Path of the file for `revision`. */
  filePath(revision: string): string {
    return join(this.options.logDir, `${this.options.app}-${this.options.role}-${revision}.log`);
  }

  /** Records one line. */
  write(replica: number, revision: string, stream: LogStream, text: string): void {
    const line: LogLine = { at: this.options.now(), replica, revision, stream, text };
    this.#ring[this.#next] = line;
    this.#next = (this.#next + 1) % this.#ring.length;
    this.#size = Math.min(this.#size + 1, this.#ring.length);
    if (!this.#closed) this.#fileFor(revision).write(`${formatLogLine(line)}\n`);
  }

  /**
   * A sink that splits one replica's stream into lines as text arrives in pieces (`push`),
   * strips a trailing `\r`, cuts a line longer than 16 KiB, and records each line; `end`
   * records a final partial line.
   */
  lineSink(replica: number, revision: string, stream: LogStream): LineSink {
    let pending = '';
    return {
      push: (text) => {
        pending += text;
        let newline = pending.indexOf('\n');
        while (newline >= 0) {
          this.write(replica, revision, stream, pending.slice(0, newline).replace(/\r$/, ''));
          pending = pending.slice(newline + 1);
          newline = pending.indexOf('\n');
        }
        if (pending.length > MAX_LINE_CHARS) {
          this.write(replica, revision, stream, `${pending.slice(0, MAX_LINE_CHARS)} [line truncated]`);
          pending = '';
        }
      },
      end: () => {
        if (pending !== '') this.write(replica, revision, stream, pending);
        pending = '';
      },
    };
  }

  /** The last `tail` lines (all kept lines when absent), oldest first. */
  lines(tail?: number): LogLine[] {
    const count = tail === undefined ? this.#size : Math.max(0, Math.min(tail, this.#size));
    const out: LogLine[] = [];
    for (let i = count; i > 0; i--) {
      const line = this.#ring[(this.#next - i + this.#ring.length) % this.#ring.length];
      if (line !== undefined) out.push(line);
    }
    return out;
  }

  /**
   * Flushes and closes the file of `revision`, whose last replica has stopped: a primary
   * replaced at each promotion would otherwise hold one descriptor per revision it ever ran.
   * A later line of that revision (it is applied again) reopens the file for appending.
   */
  async closeRevision(revision: string): Promise<void> {
    const file = this.#files.get(revision);
    if (file === undefined) return;
    this.#files.delete(revision);
    await new Promise<void>((resolve) => file.end(resolve));
  }

  /** Flushes and closes the files; later lines reach only the ring buffer. */
  async close(): Promise<void> {
    this.#closed = true;
    const files = [...this.#files.values()];
    this.#files.clear();
    await Promise.all(files.map((file) => new Promise<void>((resolve) => file.end(resolve))));
  }

  #fileFor(revision: string): WriteStream {
    let file = this.#files.get(revision);
    if (file === undefined) {
      mkdirSync(this.options.logDir, { recursive: true, mode: 0o700 });
      // Security: output may contain secrets the app prints; keep it private to the controller's user.
      file = createWriteStream(this.filePath(revision), { flags: 'a', mode: 0o600 });
      file.on('error', () => undefined);
      this.#files.set(revision, file);
    }
    return file;
  }
}
