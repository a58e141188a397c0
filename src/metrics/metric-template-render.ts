/**
 * Renders a metric template's `query` for one app and interval: the variables the query
 * uses (config/metric-template-syntax.ts) replaced by their values, and the interval written
 * in PromQL's duration syntax. Nothing is evaluated.
 */
import { parseTemplate, type TemplateVariable } from '../config/metric-template-syntax.js';
import { AviaryError } from '../errors.js';

/** Values substituted into a query. */
export interface TemplateContext extends Readonly<Record<TemplateVariable, string>> {
  /** The metric's `templateVariables`. */
  readonly variables: Readonly<Record<string, string>>;
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
