/**
 * The error reference, generated from the error catalogue: every code with its HTTP status,
 * exit code and what to do. The committed docs/errors.md is this output; a test fails when
 * they drift apart.
 */
import { ERROR_CATALOGUE, type ErrorCode, type ErrorEntry, type ExitCode } from './error-catalogue.js';

const EXIT_MEANINGS: Readonly<Record<ExitCode, string>> = {
  0: 'success',
  1: 'runtime failure',
  2: 'bad command line, or a port in use at start',
  3: 'configuration rejected',
  4: 'the API refused the call',
  5: 'rolled back',
};

function statusCell(entry: ErrorEntry): string {
  if (entry.adminHttpStatus === undefined) return String(entry.httpStatus);
  return `${entry.httpStatus} (router admin API: ${entry.adminHttpStatus})`;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** One row per code, sorted by code: `[code, HTTP status, exit code, action]`, as Markdown cells. */
export function errorReferenceRows(): string[][] {
  const codes = (Object.keys(ERROR_CATALOGUE) as ErrorCode[]).sort();
  return codes.map((code) => {
    const entry: ErrorEntry = ERROR_CATALOGUE[code];
    return [`\`${code}\``, statusCell(entry), String(entry.exitCode), escapeCell(entry.action)];
  });
}

/** docs/errors.md, from the catalogue. */
export function renderErrorReference(): string {
  const legend = Object.entries(EXIT_MEANINGS)
    .map(([code, meaning]) => `\`${code}\` ${meaning}`)
    .join(' · ');
  return [
    '# Error codes',
    '',
    '<!-- Generated from src/error-catalogue.ts by `npm run docs:errors`; test/docs/error-reference.test.ts fails when it is stale. -->',
    '',
    'Every error Aviary reports carries a stable code: match on the code, never on the message.',
    'The control API (`aviary up`) and the router admin API (`aviary proxy`) answer',
    '`{"error": {"code": "...", "message": "..."}}` with the HTTP status below; a rejected',
    'configuration also lists `issues[]`, each with the `path` of a bad field and a `message`.',
    'The `aviary` command prints the message and exits with the exit code below. Codes that only',
    'the command raises (`AVIARY_USAGE`, `AVIARY_API_*`, `AVIARY_CONFLICT`) show the status of the',
    'answer they stand for.',
    '',
    `Exit codes: ${legend}.`,
    '',
    '| code | HTTP status | exit code | what to do |',
    '|---|---|---|---|',
    ...errorReferenceRows().map((cells) => `| ${cells.join(' | ')} |`),
    '',
  ].join('\n');
}
