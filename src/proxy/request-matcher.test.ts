import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { compileMatch, parseCookies, type RequestView } from './request-matcher.js';

function view(path: string, headers: Record<string, string> = {}): RequestView {
  return {
    req: { headers, method: 'GET' } as unknown as IncomingMessage,
    path,
    query: '',
    cookies: undefined,
    queryParams: undefined,
  };
}

describe('compileMatch', () => {
  it('matches regexes against the whole value, as Envoy does', () => {
    const match = compileMatch({ headers: [{ name: 'x-version', regex: 'v1', invert: false }] });
    expect(match(view('/', { 'x-version': 'v1' }))).toBe(true);
    expect(match(view('/', { 'x-version': 'v10' }))).toBe(false);
    const path = compileMatch({ path: { regex: '/api/v[0-9]+' } });
    expect(path(view('/api/v2'))).toBe(true);
    expect(path(view('/api/v2/users'))).toBe(false);
  });

  it('parses cookies, keeping the first of duplicate names and unquoting values', () => {
    expect([...parseCookies('a=1; b="two"; a=3; junk')]).toEqual([
      ['a', '1'],
      ['b', 'two'],
    ]);
  });
});
