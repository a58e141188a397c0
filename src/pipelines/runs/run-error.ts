/**
 * The one error the runs layer throws, with a stable `code`. The codes are not yet rows of
 * `src/error-catalogue.ts`; they move there, prefixed `AVIARY_`, when the pipelines are
 * wired in (as the git, build and artifact layers' codes do).
 */

/** Stable codes of {@link RunError}. */
export type RunErrorCode =
  /** No run has this id (it never existed, or history pruning removed it). */
  | 'RUN_NOT_FOUND'
  /** A run input or queue option was refused; the message names the field. */
  | 'RUN_INVALID_INPUT'
  /** The run cannot do what was asked in its state (e.g. cancel a finished run). */
  | 'RUN_WRONG_STATE'
  /** A run file is not what the store writes; the message names the file and the field. */
  | 'RUN_STATE_CORRUPT';

/** A refused or failed run operation. */
export class RunError extends Error {
  readonly code: RunErrorCode;

  constructor(code: RunErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RunError';
    this.code = code;
  }
}
