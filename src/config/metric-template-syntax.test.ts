import { describe, expect, it } from 'vitest';
import { customVariablesOf, parseTemplate } from './metric-template-syntax.js';

describe('parseTemplate and customVariablesOf', () => {
  it('lists the custom variables a query uses, once each, in order of first use', () => {
    expect(customVariablesOf('{{ variables.b }} {{ variables.a }} {{ variables.b }} {{ name }}')).toEqual([
      'b',
      'a',
    ]);
  });

  it('reports the first problem of a bad query', () => {
    expect(parseTemplate('{{ name }} {{ nope }}')).toEqual({
      ok: false,
      message: expect.stringContaining('unsupported expression "{{ nope }}"'),
    });
  });
});
