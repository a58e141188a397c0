/**
 * Fuzzing metric template rendering (issue 16, "PromQL template rendering"): whatever string
 * a variable holds (`name`, `namespace`, `target`, `service`, `interval` or a
 * `variables.X`), renderQuery either refuses it with AVIARY_METRIC_TEMPLATE_INVALID or the
 * value stays inside the PromQL string literal the template put it in: a PromQL lexer
 * reading the rendered query closes that literal exactly where the value ends.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { METRIC_TEMPLATE_VARIABLES, type TemplateVariable } from '../../src/config/metric-template-syntax.js';
import { AviaryError } from '../../src/errors.js';
import { renderQuery, type TemplateContext } from '../../src/metrics/metric-template-render.js';
import { fuzzRuns, fuzzTimeoutMs } from './fuzz-support.js';

// Pure string work: 100,000 renders take a few seconds.
const RUNS = fuzzRuns();
const TIMEOUT = fuzzTimeoutMs(RUNS, 0.5);

const CONTEXT: TemplateContext = {
  name: 'catalogdetail',
  namespace: 'default',
  target: 'catalogdetail',
  service: 'catalogdetail',
  interval: '1m',
  variables: { codes: '5..' },
};

/**
 * Where a PromQL string literal opened at `open` (a `"`, `'` or backtick) ends: the index of
 * its closing quote, or -1 when the text ends first. Backslash escapes apply in quoted
 * strings, not in raw backtick strings.
 * https://prometheus.io/docs/prometheus/latest/querying/basics/#string-literals
 */
function closingQuote(text: string, open: number): number {
  const quote = text[open];
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && quote !== '`') i++;
    else if (c === quote) return i;
  }
  return -1;
}

/** The text an attacker would add to leave the string: each must be refused or contained. */
const injection = fc.oneof(
  fc.constantFrom(
    '"} or vector(1) #',
    '"}) or vector(1) or sum(x{a="',
    "'} or vector(1) #",
    '`} or vector(1) #',
    '\\',
    'x\\',
    'x\\\\\\',
    '\\"',
    '\n',
    '5..\n} or vector(1)',
    '1m] offset 1h) or vector(1) #',
    '1m:1s',
    '{{ name }}',
    '',
  ),
  fc.string({ unit: fc.constantFrom(...'"\'`\\{}[]()#\n\r =~!,a-.5ms'.split('')), maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
);

function render(query: string, context: TemplateContext): string | undefined {
  try {
    return renderQuery(query, context);
  } catch (err) {
    if (!(err instanceof AviaryError) || err.code !== 'AVIARY_METRIC_TEMPLATE_INVALID') throw err;
    return undefined;
  }
}

/** A template putting the variable `expression` in a `quote`d label matcher. */
function quotedTemplate(expression: string, quote: string): { query: string; prefix: string } {
  const prefix = `sum(rate(x{a=${quote}`;
  return { query: `${prefix}{{ ${expression} }}${quote},b="y"}[{{ interval }}]))`, prefix };
}

describe('fuzz: PromQL template rendering', () => {
  it(
    'a value in a label matcher string is refused or stays inside that string',
    () => {
      const variable = fc.constantFrom<TemplateVariable | 'variables.codes'>(
        ...METRIC_TEMPLATE_VARIABLES.filter((v) => v !== 'interval'),
        'variables.codes',
      );
      fc.assert(
        fc.property(variable, fc.constantFrom('"', "'", '`'), injection, (expression, quote, value) => {
          const context: TemplateContext =
            expression === 'variables.codes'
              ? { ...CONTEXT, variables: { codes: value } }
              : { ...CONTEXT, [expression]: value };
          const { query, prefix } = quotedTemplate(expression, quote);
          const rendered = render(query, context);
          if (rendered === undefined) return;
          expect(closingQuote(rendered, prefix.length - 1)).toBe(prefix.length + value.length);
          expect(rendered.slice(prefix.length + value.length)).toBe(`${quote},b="y"}[1m]))`);
        }),
        { numRuns: Math.ceil(RUNS * 0.8) },
      );
    },
    TIMEOUT,
  );

  it(
    'an interval is refused unless it is a PromQL duration',
    () => {
      fc.assert(
        fc.property(injection, (value) => {
          const rendered = render('sum(rate(x{a="b"}[{{ interval }}]))', { ...CONTEXT, interval: value });
          if (rendered === undefined) return;
          expect(value).toMatch(/^(?:\d+(?:ms|[smhdwy]))+$/);
        }),
        { numRuns: Math.ceil(RUNS * 0.2) },
      );
    },
    TIMEOUT,
  );

  it('refuses the classic injections with a message naming the variable', () => {
    expect(() =>
      renderQuery('x{a="{{ namespace }}"}', { ...CONTEXT, namespace: '"} or vector(1) #' }),
    ).toThrow(/\{\{ namespace \}\} is .*expected a Kubernetes object name/);
    expect(() =>
      renderQuery('x{a="{{ variables.codes }}"}', {
        ...CONTEXT,
        variables: { codes: '5.."} or vector(1) #' },
      }),
    ).toThrow(/\{\{ variables\.codes \}\} is .*may not contain quotes/);
    expect(() =>
      renderQuery('x{a="{{ variables.codes }}"}', { ...CONTEXT, variables: { codes: 'x\\' } }),
    ).toThrow(/unpaired backslash/);
    expect(
      renderQuery('x{a=~"{{ variables.codes }}"}', { ...CONTEXT, variables: { codes: '5\\\\d\\\\d|4..' } }),
    ).toBe('x{a=~"5\\\\d\\\\d|4.."}');
  });
});
