import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ERROR_CATALOGUE,
  EXIT,
  exitCodeOf,
  httpStatusOf,
  isErrorCode,
  type ErrorCode,
  type ErrorEntry,
} from './error-catalogue.js';
import { AviaryError } from './errors.js';

/** Environment variables Aviary reads or sets: quoted like codes, but not error codes. */
const ENVIRONMENT_VARIABLES = new Set([
  'AVIARY_API',
  'AVIARY_INSTANCE',
  'AVIARY_RELEASE',
  'AVIARY_REPLICA',
  'AVIARY_REVISION',
  'AVIARY_RUN_ID',
  'AVIARY_TAG',
  'AVIARY_TOKEN',
]);

const codes = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

function quotedNamesIn(dir: string): Map<string, string> {
  const found = new Map<string, string>();
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter(
    (file) => file.endsWith('.ts') && !file.endsWith('.test.ts'),
  );
  for (const file of files) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const match of text.matchAll(/['"`](AVIARY_[A-Z0-9_]+)['"`]/g))
      found.set(match[1]!, join(dir, file));
  }
  return found;
}

describe('error catalogue', () => {
  it.each(codes)('%s has an error status, a failing exit code and an action', (code) => {
    const entry: ErrorEntry = ERROR_CATALOGUE[code];
    expect(code).toMatch(/^AVIARY_[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
    for (const status of [entry.httpStatus, entry.adminHttpStatus ?? entry.httpStatus]) {
      expect(Number.isInteger(status) && status >= 400 && status <= 599, `status ${status}`).toBe(true);
    }
    expect([EXIT.failure, EXIT.usage, EXIT.invalidConfig, EXIT.refused, EXIT.rolledBack]).toContain(
      entry.exitCode,
    );
    expect(entry.action.trim()).not.toBe('');
    expect(entry.action).not.toContain('\n');
    expect(entry.action).toMatch(/^[A-Z].*\.$/);
  });

  it('keeps the statuses the APIs answered before the catalogue', () => {
    const control: [ErrorCode, number][] = [
      ['AVIARY_BAD_REQUEST', 400],
      ['AVIARY_UNAUTHORIZED', 401],
      ['AVIARY_NOT_FOUND', 404],
      ['AVIARY_METHOD', 405],
      ['AVIARY_ROLLOUT_SUSPENDED', 409],
      ['AVIARY_RELEASE_CONFLICT', 409],
      ['AVIARY_BODY_TOO_LARGE', 413],
      ['AVIARY_CONFIG_INVALID', 422],
      ['AVIARY_RELEASE_NOT_READY', 422],
      ['AVIARY_INTERNAL', 500],
      ['AVIARY_DASHBOARD_MISSING', 500],
      ['AVIARY_TARGET_CLOSED', 400],
    ];
    for (const [code, status] of control) expect([code, httpStatusOf(code)]).toEqual([code, status]);
    const admin: [ErrorCode, number][] = [
      ['AVIARY_CONFIG_INVALID', 400],
      ['AVIARY_GENERATION_CONFLICT', 409],
      ['AVIARY_BODY_TOO_LARGE', 413],
      ['AVIARY_NOT_FOUND', 404],
    ];
    for (const [code, status] of admin) expect([code, httpStatusOf(code, 'admin')]).toEqual([code, status]);
  });

  it('keeps the exit codes the CLI gave before the catalogue: 1 unless listed', () => {
    const special: Partial<Record<ErrorCode, number>> = {
      AVIARY_USAGE: EXIT.usage,
      AVIARY_CONFIG_INVALID: EXIT.invalidConfig,
      AVIARY_UNAUTHORIZED: EXIT.refused,
      AVIARY_GENERATION_CONFLICT: EXIT.refused,
      AVIARY_CONFLICT: EXIT.refused,
      AVIARY_NOT_FOUND: EXIT.refused,
      AVIARY_ROLLED_BACK: EXIT.rolledBack,
      // New with these codes: a port that cannot be listened on at start is a usage error.
      AVIARY_PORT_IN_USE: EXIT.usage,
      AVIARY_LISTEN_FAILED: EXIT.usage,
    };
    for (const code of codes) expect([code, exitCodeOf(code)]).toEqual([code, special[code] ?? EXIT.failure]);
  });

  it('tells catalogued codes from other strings', () => {
    expect(isErrorCode('AVIARY_NOT_FOUND')).toBe(true);
    expect(isErrorCode('AVIARY_NO_SUCH_CODE')).toBe(false);
    expect(isErrorCode('toString')).toBe(false);
    expect(isErrorCode(undefined)).toBe(false);
  });

  it('is the only source of codes: AviaryError takes no other', () => {
    // @ts-expect-error An uncatalogued code literal does not type-check.
    const err = new AviaryError('AVIARY_NO_SUCH_CODE', 'x');
    expect(err).toBeInstanceOf(AviaryError);
  });

  it('lists every code that a source file under src quotes', () => {
    const found = quotedNamesIn('src');
    expect(found.size).toBeGreaterThan(40);
    const missing = [...found]
      .filter(([name]) => !ENVIRONMENT_VARIABLES.has(name) && !isErrorCode(name))
      .map(([name, file]) => `${name} (${file})`);
    expect(missing).toEqual([]);
    expect(codes.filter((code) => ENVIRONMENT_VARIABLES.has(code))).toEqual([]);
  });
});
