/**
 * Exit codes of the `aviary` command, and how error codes map to them. Scripts can rely on
 * these; they are listed in `aviary --help` and the README.
 */
import { AviaryError } from '../errors.js';

/** Documented exit codes. */
export const EXIT = {
  ok: 0,
  /** Runtime failure (a service could not start, a call failed). */
  failure: 1,
  /** Bad command line. */
  usage: 2,
  /** A configuration file or document was rejected. */
  invalidConfig: 3,
  /** The control or admin API refused the call (auth, conflict, not found). */
  refused: 4,
  /** A rollout ended in failure (rolled back) where the command waited for it. */
  rolledBack: 5,
} as const;

/** Exit code for an error thrown by a command. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof AviaryError) {
    if (err.code === 'AVIARY_CONFIG_INVALID') return EXIT.invalidConfig;
    if (
      err.code === 'AVIARY_UNAUTHORIZED' ||
      err.code === 'AVIARY_GENERATION_CONFLICT' ||
      err.code === 'AVIARY_NOT_FOUND'
    ) {
      return EXIT.refused;
    }
  }
  return EXIT.failure;
}

/** Help text appended to `aviary --help`. */
export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  1  runtime failure
  2  bad command line
  3  configuration rejected (errors name the path of each bad field)
  4  the API refused the call (token, generation conflict, unknown object)
  5  the rollout was rolled back`;
