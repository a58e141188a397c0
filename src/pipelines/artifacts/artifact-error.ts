/**
 * The one error the artifact store throws, with a stable `code`. Its codes are rows of
 * `src/error-catalogue.ts`.
 */
import { AviaryError } from '../../errors.js';

/** Stable codes of {@link ArtifactError}. */
export type ArtifactErrorCode =
  /** An app, tag, commit, build key or digest was refused; the message names which. */
  | 'AVIARY_ARTIFACT_INVALID_INPUT'
  /** The (app, tag) is already published from another commit or build key: tags are immutable. */
  | 'AVIARY_ARTIFACT_TAG_IMMUTABLE'
  /** The index file is not what the store writes; the message names the file and the field. */
  | 'AVIARY_ARTIFACT_INDEX_CORRUPT'
  /** The build output holds something other than files, directories and symlinks. */
  | 'AVIARY_ARTIFACT_UNSUPPORTED_FILE';

/** A refused or failed artifact store operation. */
export class ArtifactError extends AviaryError {
  declare readonly code: ArtifactErrorCode;

  constructor(code: ArtifactErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
