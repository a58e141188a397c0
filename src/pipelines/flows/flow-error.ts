/**
 * The one error the flows throw, with a stable `code`. Its codes are rows of
 * `src/error-catalogue.ts`.
 */
import { AviaryError } from '../../errors.js';

/** Stable codes of {@link FlowError}. */
export type FlowErrorCode =
  /** A source or flow option was refused; the message names it. */
  | 'AVIARY_FLOW_INVALID_OPTION'
  /** The run names a source the configuration does not have (or not for this pipeline). */
  | 'AVIARY_FLOW_UNKNOWN_SOURCE'
  /** The fetched ref does not point at the object the push named (it moved, or the push lied). */
  | 'AVIARY_FLOW_REF_MISMATCH'
  /** The release file is not in the deploy repository at the fetched commit. */
  | 'AVIARY_FLOW_RELEASE_FILE_MISSING'
  /** A commit status could not be posted (never fails a run; logged to it). */
  | 'AVIARY_FLOW_STATUS_FAILED'
  /** `onPublish: canary` cannot start a canary of the app (not in aviary.yaml, not a process, run from a release file). */
  | 'AVIARY_FLOW_CANARY_REFUSED';

/** A refused or failed flow step. */
export class FlowError extends AviaryError {
  declare readonly code: FlowErrorCode;

  constructor(code: FlowErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
