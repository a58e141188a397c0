/**
 * The one error the flows throw, with a stable `code`. The codes are not yet rows of
 * `src/error-catalogue.ts`; they move there, prefixed `AVIARY_`, when the pipelines are
 * wired in. A run records the message as its reason.
 */

/** Stable codes of {@link FlowError}. */
export type FlowErrorCode =
  /** A source or flow option was refused; the message names it. */
  | 'FLOW_INVALID_OPTION'
  /** The run names a source the configuration does not have (or not for this pipeline). */
  | 'FLOW_UNKNOWN_SOURCE'
  /** The fetched ref does not point at the object the push named (it moved, or the push lied). */
  | 'FLOW_REF_MISMATCH'
  /** The release file is not in the deploy repository at the fetched commit. */
  | 'FLOW_RELEASE_FILE_MISSING'
  /** A commit status could not be posted (never fails a run; logged to it). */
  | 'FLOW_STATUS_FAILED';

/** A refused or failed flow step. */
export class FlowError extends Error {
  readonly code: FlowErrorCode;

  constructor(code: FlowErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FlowError';
    this.code = code;
  }
}
