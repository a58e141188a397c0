/**
 * Aviary's error base class. Every error carries a stable `code` that callers match on
 * (never the message); the code's HTTP status, exit code and advice are in
 * `error-catalogue.ts`.
 */
import type { ErrorCode } from './error-catalogue.js';

/** An error with a catalogued code; subclasses may narrow `code` to their own codes. */
export class AviaryError extends Error {
  /** Stable, upper-snake-case identifier, e.g. `AVIARY_CONFIG_INVALID`. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
