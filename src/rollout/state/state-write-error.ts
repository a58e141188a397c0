/**
 * A state write that the file system refused (ENOSPC: the disk is full; EROFS: it was
 * remounted read-only; EDQUOT, EIO...), named by the file it was for. Node's own errors of
 * a `write` or `fsync` carry no path, and "ENOSPC: no space left on device, write" tells an
 * operator neither which disk nor which file; this one does, and keeps the errno as `code`
 * so callers match on it (as on Node's system errors), never on the message.
 */

/** A failed write of state, with the file and the errno. */
export class StateWriteError extends Error {
  /** The errno name (`ENOSPC`, `EROFS`...), or `EUNKNOWN` when the cause had none. */
  readonly code: string;
  /** The file the write was for. */
  readonly path: string;

  constructor(path: string, what: string, cause: unknown) {
    const code = errnoOf(cause) ?? 'EUNKNOWN';
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      `${path}: ${what} failed with ${code} (${why}); expected a writable state directory with free space`,
      {
        cause,
      },
    );
    this.name = 'StateWriteError';
    this.code = code;
    this.path = path;
  }
}

/** The errno name of a Node system error (`ENOSPC`), if `err` is one. */
export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}
