/**
 * The error `runBuild` throws for options it cannot run with. A build that runs and fails
 * is not an error: it is a {@link BuildResult} whose outcome says how it ended.
 *
 * The code is not yet a row of `src/error-catalogue.ts`; it moves there, prefixed
 * `AVIARY_`, when the pipelines are wired in.
 */

/** Stable codes of {@link BuildError}. */
export type BuildErrorCode = 'BUILD_INVALID_OPTION';

/** A build option was refused; the message names the option, e.g. `steps[1]`. */
export class BuildError extends Error {
  readonly code: BuildErrorCode;

  constructor(code: BuildErrorCode, message: string) {
    super(message);
    this.name = 'BuildError';
    this.code = code;
  }
}
