/**
 * The one error the artifact store throws, with a stable `code`. The codes are not yet rows
 * of `src/error-catalogue.ts`; they move there, prefixed `AVIARY_`, when the pipelines are
 * wired in.
 */

/** Stable codes of {@link ArtifactError}. */
export type ArtifactErrorCode =
  /** An app, tag, commit, build key or digest was refused; the message names which. */
  | 'ARTIFACT_INVALID_INPUT'
  /** The (app, tag) is already published from another commit or build key: tags are immutable. */
  | 'ARTIFACT_TAG_IMMUTABLE'
  /** The index file is not what the store writes; the message names the file and the field. */
  | 'ARTIFACT_INDEX_CORRUPT'
  /** The build output holds something other than files, directories and symlinks. */
  | 'ARTIFACT_UNSUPPORTED_FILE';

/** A refused or failed artifact store operation. */
export class ArtifactError extends Error {
  readonly code: ArtifactErrorCode;

  constructor(code: ArtifactErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ArtifactError';
    this.code = code;
  }
}
