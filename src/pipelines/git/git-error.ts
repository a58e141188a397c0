/**
 * The one error the git layer throws: a stable `code`, the source and ref it was working
 * on, and git's own stderr, so a failed run can show the user what git said.
 *
 * Its codes are rows of `src/error-catalogue.ts`.
 */
import { AviaryError } from '../../errors.js';

/** Stable codes of {@link GitError}. */
export type GitErrorCode =
  /** A ref, URL, commit id or path was refused before git ran. */
  | 'AVIARY_GIT_INVALID_ARGUMENT'
  /** git ran and failed (exit code, signal or spawn failure); `stderr` says why. */
  | 'AVIARY_GIT_COMMAND_FAILED'
  /** The ref is not in the cache or the remote. */
  | 'AVIARY_GIT_REF_NOT_FOUND';

/** A git operation that was refused or failed. */
export class GitError extends AviaryError {
  declare readonly code: GitErrorCode;
  /** The cache's source name, when the operation had one. */
  readonly source: string | undefined;
  /** The ref, commit or path the operation was about. */
  readonly ref: string | undefined;
  /** git's stderr, trimmed (empty when git did not run). */
  readonly stderr: string;

  constructor(
    code: GitErrorCode,
    message: string,
    details: { source?: string; ref?: string; stderr?: string; cause?: unknown } = {},
  ) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.source = details.source;
    this.ref = details.ref;
    this.stderr = details.stderr?.trim() ?? '';
  }
}
