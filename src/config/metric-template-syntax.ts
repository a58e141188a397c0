/**
 * The syntax of a metric template's `query`: Flagger's Go-template variables (`{{ name }}`,
 * `{{ namespace }}`, `{{ target }}`, `{{ service }}`, `{{ interval }}`,
 * `{{ variables.X }}`; https://docs.flagger.app/usage/metrics#custom-metrics) read by a small
 * scanner. The config schema rejects a query that does not parse; metrics/metric-template-render.ts
 * substitutes the values at query time. Nothing is evaluated: any other expression is an
 * error naming it.
 */

/** The variables every template may use besides `variables.X`. */
export const METRIC_TEMPLATE_VARIABLES = ['name', 'namespace', 'target', 'service', 'interval'] as const;

/** One of {@link METRIC_TEMPLATE_VARIABLES}. */
export type TemplateVariable = (typeof METRIC_TEMPLATE_VARIABLES)[number];

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
    } else if (builtin !== undefined && (METRIC_TEMPLATE_VARIABLES as readonly string[]).includes(builtin)) {
      parts.push({ kind: 'variable', name: builtin as TemplateVariable });
    } else {
      return {
        ok: false,
        message: `unsupported expression "{{ ${expression} }}"; expected one of ${METRIC_TEMPLATE_VARIABLES.map((v) => `{{ ${v} }}`).join(', ')} or {{ variables.NAME }}`,
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
