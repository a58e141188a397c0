/**
 * The one error the runs layer throws, with a stable `code`. Its codes are rows of
 * `src/error-catalogue.ts`.
 */
import { AviaryError } from '../../errors.js';

/** Stable codes of {@link RunError}. */
export type RunErrorCode =
  /** No run has this id (it never existed, or history pruning removed it). */
  | 'AVIARY_RUN_NOT_FOUND'
  /** A run input or queue option was refused; the message names the field. */
  | 'AVIARY_RUN_INVALID_INPUT'
  /** The run cannot do what was asked in its state (e.g. cancel a finished run). */
  | 'AVIARY_RUN_WRONG_STATE'
  /** A run file is not what the store writes; the message names the file and the field. */
  | 'AVIARY_RUN_STATE_CORRUPT';

/** A refused or failed run operation. */
export class RunError extends AviaryError {
  declare readonly code: RunErrorCode;

  constructor(code: RunErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
