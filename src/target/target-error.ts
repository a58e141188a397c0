/**
 * Errors raised by targets. Callers match on `code`; messages name the version
 * (`app catalogdetail, role canary`) and say what to do next.
 */
import { AviaryError } from '../errors.js';

/** Stable codes of {@link TargetError}. */
export type TargetErrorCode =
  | 'AVIARY_TARGET_UNKNOWN_KIND'
  | 'AVIARY_TARGET_INVALID_SPEC'
  | 'AVIARY_TARGET_VERSION_NOT_FOUND'
  | 'AVIARY_TARGET_CLOSED'
  | 'AVIARY_TARGET_STATE_DIR_IN_USE'
  | 'AVIARY_TARGET_STATE_CORRUPT';

/** A failure of a target operation. */
export class TargetError extends AviaryError {
  declare readonly code: TargetErrorCode;

  constructor(code: TargetErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
