/**
 * Exit codes of the `aviary` command. Scripts can rely on them; they are listed in
 * `aviary --help` and the README, and each error code's exit code is in the error catalogue.
 */
import { EXIT, exitCodeOf } from '../error-catalogue.js';
import { AviaryError } from '../errors.js';

export { EXIT } from '../error-catalogue.js';

/** Exit code for an error thrown by a command: its code's, or 1 for anything uncatalogued. */
export function exitCodeFor(err: unknown): number {
  return err instanceof AviaryError ? exitCodeOf(err.code) : EXIT.failure;
}

/** Help text appended to `aviary --help`. */
export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  runtime failure
  2  bad command line, or a port in use at start
  3  configuration rejected (errors name the path of each bad field)
  4  the API refused the call (401 token, 404 unknown app, 409 conflict)
  5  the rollout was rolled back`;
