/**
 * Aviary's error base class. Every error carries a stable `code` that callers match on
 * (never the message) and the CLI maps to an exit code.
 */
export class AviaryError extends Error {
  /** Stable, upper-snake-case identifier, e.g. `AVIARY_CONFIG_INVALID`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
