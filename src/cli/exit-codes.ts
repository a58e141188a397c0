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
  /** Bad command line (also AviaryError code AVIARY_USAGE, e.g. a malformed --api URL). */
  usage: 2,
  /** A configuration file or document was rejected. */
  invalidConfig: 3,
  /**
   * The control or admin API refused the call: 401 (token; AVIARY_UNAUTHORIZED), 404 (unknown
   * app; AVIARY_NOT_FOUND), 409 (e.g. a suspended rollout; AVIARY_CONFLICT), or a generation
   * conflict.
   */
  refused: 4,
  /** A rollout ended in failure (rolled back) where the command waited for it. */
  rolledBack: 5,
} as const;

/** Exit code for an error thrown by a command. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof AviaryError) {
    if (err.code === 'AVIARY_CONFIG_INVALID') return EXIT.invalidConfig;
    if (err.code === 'AVIARY_USAGE') return EXIT.usage;
    if (
      err.code === 'AVIARY_UNAUTHORIZED' ||
      err.code === 'AVIARY_GENERATION_CONFLICT' ||
      err.code === 'AVIARY_CONFLICT' ||
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
  4  the API refused the call (401 token, 404 unknown app, 409 conflict)
  5  the rollout was rolled back`;
