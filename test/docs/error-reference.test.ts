import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../../src/error-catalogue.js';
import { errorReferenceRows, renderErrorReference } from '../../src/error-reference.js';

describe('docs/errors.md', () => {
  it('is exactly what the error catalogue generates (run `npm run docs:errors` after a change)', () => {
    expect(readFileSync('docs/errors.md', 'utf8')).toBe(renderErrorReference());
  });

  it('has one row per code with its HTTP status, exit code and action', () => {
    const rows = new Map(errorReferenceRows().map((cells) => [cells[0], cells.slice(1)]));
    expect(rows.size).toBe(Object.keys(ERROR_CATALOGUE).length);
    expect(rows.get('`AVIARY_CONFIG_INVALID`')?.slice(0, 2)).toEqual(['422 (router admin API: 400)', '3']);
    expect(rows.get('`AVIARY_UNAUTHORIZED`')?.slice(0, 2)).toEqual(['401', '4']);
    expect(rows.get('`AVIARY_USAGE`')?.[2]).toBe(ERROR_CATALOGUE.AVIARY_USAGE.action);
  });
});
