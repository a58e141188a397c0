/**
 * Renders a metric template's `query`: Flagger's Go-template variables (`{{ name }}`,
 * `{{ namespace }}`, `{{ target }}`, `{{ service }}`, `{{ interval }}`,
 * `{{ variables.X }}`; https://docs.flagger.app/usage/metrics#custom-metrics) substituted
 * by a small scanner. Nothing is evaluated: any other expression is an error naming it.
 */
import { AviaryError } from '../errors.js';

/** The variables every template may use besides `variables.X`. */
export const TEMPLATE_VARIABLES = ['name', 'namespace', 'target', 'service', 'interval'] as const;

/** One of {@link TEMPLATE_VARIABLES}. */
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];

/** Values substituted into a query. */
export interface TemplateContext extends Readonly<Record<TemplateVariable, string>> {
  /** The metric's `templateVariables`. */
  readonly variables: Readonly<Record<string, string>>;
}

/** A parsed query: literal text and variable references, in order. */
export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'variable'; readonly name: TemplateVariable }
  | { readonly kind: 'custom'; readonly name: string };

/** A parsed query, or the first problem found in it. */
export type ParsedTemplate =
  | { readonly ok: true; readonly parts: readonly TemplatePart[] }
  | { readonly ok: false; readonly message: string };

const EXPRESSION = /^(?:variables\.([A-Za-z_][A-Za-z0-9_]*)|([a-z]+))$/;

/** Splits `query` into text and variable references; reports the first unsupported expression. */
export function parseTemplate(query: string): ParsedTemplate {
  const parts: TemplatePart[] = [];
  let at = 0;
  for (;;) {
    const open = query.indexOf('{{', at);
    if (open < 0) break;
    const close = query.indexOf('}}', open + 2);
    if (close < 0) return { ok: false, message: `unclosed "{{" at character ${open + 1}` };
    if (open > at) parts.push({ kind: 'text', text: query.slice(at, open) });
    const expression = query.slice(open + 2, close).trim();
    const match = EXPRESSION.exec(expression);
    const builtin = match?.[2];
    if (match?.[1] !== undefined) {
      parts.push({ kind: 'custom', name: match[1] });
    } else if (builtin !== undefined && (TEMPLATE_VARIABLES as readonly string[]).includes(builtin)) {
      parts.push({ kind: 'variable', name: builtin as TemplateVariable });
    } else {
      return {
        ok: false,
        message: `unsupported expression "{{ ${expression} }}"; expected one of ${TEMPLATE_VARIABLES.map((v) => `{{ ${v} }}`).join(', ')} or {{ variables.NAME }}`,
      };
    }
    at = close + 2;
  }
  if (at < query.length) parts.push({ kind: 'text', text: query.slice(at) });
  return { ok: true, parts };
}

/** Names of the `variables.X` a query uses, in order of first use (empty when it does not parse). */
export function customVariablesOf(query: string): string[] {
  const parsed = parseTemplate(query);
  if (!parsed.ok) return [];
  const names = parsed.parts.flatMap((p) => (p.kind === 'custom' ? [p.name] : []));
  return [...new Set(names)];
}

/**
 * Substitutes `context` into `query`. Values are inserted verbatim, as Flagger does: they
 * come from aviary.yaml, which is trusted like the query itself.
 * @throws AviaryError `AVIARY_METRIC_TEMPLATE_INVALID` for an unsupported expression or a
 * `variables.X` the metric does not define.
 */
export function renderQuery(query: string, context: TemplateContext, label = 'query'): string {
  const parsed = parseTemplate(query);
  if (!parsed.ok) throw new AviaryError('AVIARY_METRIC_TEMPLATE_INVALID', `${label}: ${parsed.message}`);
  return parsed.parts
    .map((part) => {
      switch (part.kind) {
        case 'text':
          return part.text;
        case 'variable':
          return context[part.name];
        case 'custom': {
          const value = context.variables[part.name];
          if (value === undefined) {
            throw new AviaryError(
              'AVIARY_METRIC_TEMPLATE_INVALID',
              `${label}: {{ variables.${part.name} }} is not set; add it to the metric's templateVariables`,
            );
          }
          return value;
        }
      }
    })
    .join('');
}

/**
 * A duration in PromQL's syntax (`1m`, `30s`, `1m30s`, `500ms`): the largest units that add
 * up to it exactly. https://prometheus.io/docs/prometheus/latest/querying/basics/#float-literals-and-time-durations
 */
export function promDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms <= 0) {
    throw new AviaryError(
      'AVIARY_METRIC_TEMPLATE_INVALID',
      `interval: expected a whole number of ms > 0, got ${ms}`,
    );
  }
  const units: readonly (readonly [string, number])[] = [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ];
  let rest = ms;
  let out = '';
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}
