import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDuration } from '../config/duration.js';
import type { AviaryError } from '../errors.js';
import { promDuration, renderQuery, type TemplateContext } from './metric-template-render.js';

const context: TemplateContext = {
  name: 'catalogdetail',
  namespace: 'default',
  target: 'catalogdetail-target',
  service: 'catalogdetail-svc',
  interval: '1m',
  variables: { code: '5..', quantile: '0.99' },
};

function renderError(query: string, ctx: TemplateContext = context): AviaryError {
  try {
    renderQuery(query, ctx, 'metric template errors');
  } catch (err) {
    return err as AviaryError;
  }
  throw new Error(`expected ${query} to be rejected`);
}

describe('renderQuery', () => {
  it("substitutes each of Flagger's variables, with or without spaces inside the braces", () => {
    const query =
      'sum(rate(x{ns="{{ namespace }}",app="{{name}}",t="{{ target }}",s="{{  service  }}",c=~"{{ variables.code }}"}[{{ interval }}]))';
    expect(renderQuery(query, context)).toBe(
      'sum(rate(x{ns="default",app="catalogdetail",t="catalogdetail-target",s="catalogdetail-svc",c=~"5.."}[1m]))',
    );
  });

  it('leaves PromQL braces and text without templates untouched', () => {
    const query = 'histogram_quantile(0.99, sum by (le) (rate(h_bucket{a="b"}[5m])))';
    expect(renderQuery(query, context)).toBe(query);
  });

  it('inserts values verbatim, once: a value that looks like a template is not expanded again', () => {
    const tricky = { ...context, variables: { code: '{{ name }}' } };
    expect(renderQuery('{{ variables.code }}', tricky)).toBe('{{ name }}');
  });

  it('rejects anything that is not a plain variable, naming the expression (nothing is evaluated)', () => {
    for (const expression of ['.name', 'constructor', 'name | upper', 'variables', 'variables.a.b', '']) {
      const err = renderError(`up{a="{{ ${expression} }}"}`);
      expect(err.code).toBe('AVIARY_METRIC_TEMPLATE_INVALID');
      expect(err.message).toContain('metric template errors: unsupported expression');
      expect(err.message).toContain('{{ variables.NAME }}');
    }
  });

  it('rejects an unclosed "{{" with its position', () => {
    expect(renderError('up{a="{{ name"}').message).toContain('unclosed "{{" at character 7');
  });

  it('names a variables.X the metric does not set and where to set it', () => {
    const err = renderError('x{c="{{ variables.missing }}"}');
    expect(err.message).toBe(
      "metric template errors: {{ variables.missing }} is not set; add it to the metric's templateVariables",
    );
  });
});

describe('promDuration', () => {
  it('writes intervals the way PromQL reads them', () => {
    expect(promDuration(60_000)).toBe('1m');
    expect(promDuration(10_000)).toBe('10s');
    expect(promDuration(90_000)).toBe('1m30s');
    expect(promDuration(3_600_500)).toBe('1h500ms');
    expect(promDuration(250)).toBe('250ms');
  });

  it('round-trips through the duration parser for every whole number of ms', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 * 86_400_000 }), (ms) => {
        expect(parseDuration(promDuration(ms))).toBe(ms);
      }),
    );
  });

  it('rejects a duration PromQL cannot express', () => {
    expect(() => promDuration(0)).toThrow(/expected a whole number of ms > 0, got 0/);
    expect(() => promDuration(1.5)).toThrow(/got 1.5/);
  });
});
