/**
 * The error `runBuild` throws for options it cannot run with. A build that runs and fails
 * is not an error: it is a {@link BuildResult} whose outcome says how it ended.
 *
 * Its code is a row of `src/error-catalogue.ts`.
 */
import { AviaryError } from '../../errors.js';

/** Stable codes of {@link BuildError}. */
export type BuildErrorCode = 'AVIARY_BUILD_INVALID_OPTION';

/** A build option was refused; the message names the option, e.g. `steps[1]`. */
export class BuildError extends AviaryError {
  declare readonly code: BuildErrorCode;

  constructor(code: BuildErrorCode, message: string) {
    super(code, message);
  }
}
