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
 * A Kubernetes object name (DNS-1123 subdomain, at most 253 characters): what `name`,
 * `namespace`, `target` and `service` must be. It cannot leave a PromQL string literal.
 * https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#dns-subdomain-names
 */
const OBJECT_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** A PromQL duration (`1m30s`, `500ms`); https://prometheus.io/docs/prometheus/latest/querying/basics/#float-literals-and-time-durations */
const PROM_DURATION = /^(?:\d{1,12}(?:ms|[smhdwy]))+$/;

/**
 * Why a value cannot be inserted into a query, or undefined when it can. Security: the
 * built-in variables come from object names (an operator's Canary, a CLI flag), so they are
 * held to the name and duration grammars; a `variables.X` value (a regex such as `5..` is
 * usual) is inserted verbatim, as Flagger does, but may not contain what ends a PromQL
 * string literal (a quote, a backtick, a line break, or a trailing backslash that would
 * escape the closing quote), so it cannot add selectors or operators to the query.
 * https://prometheus.io/docs/prometheus/latest/querying/basics/#string-literals
 */
function unsafeValue(part: { kind: 'variable' | 'custom'; name: string }, value: string): string | undefined {
  if (part.kind === 'variable') {
    if (part.name === 'interval') {
      return PROM_DURATION.test(value) ? undefined : 'expected a PromQL duration such as 1m or 30s';
    }
    return OBJECT_NAME.test(value)
      ? undefined
      : 'expected a Kubernetes object name (lower-case letters, digits, "-" and ".")';
  }
  if (/["'`\r\n]/.test(value)) return 'may not contain quotes, backticks or line breaks';
  if (/(?:^|[^\\])(?:\\\\)*\\$/.test(value)) return 'may not end with an unpaired backslash';
  return undefined;
}

function checkedValue(
  part: { kind: 'variable' | 'custom'; name: string },
  value: string,
  label: string,
): string {
  const problem = unsafeValue(part, value);
  if (problem === undefined) return value;
  const shown = part.kind === 'variable' ? part.name : `variables.${part.name}`;
  throw new AviaryError(
    'AVIARY_METRIC_TEMPLATE_INVALID',
    `${label}: {{ ${shown} }} is ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)}: ${problem}; it would change the query, not fill it`,
  );
}

/**
 * Substitutes `context` into `query`. Values are checked, not escaped (see
 * {@link unsafeValue}): a value that could change the query's structure is refused.
 * @throws AviaryError `AVIARY_METRIC_TEMPLATE_INVALID` for an unsupported expression, a
 * `variables.X` the metric does not define, or a value that could inject PromQL.
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
          return checkedValue(part, context[part.name], label);
        case 'custom': {
          const value = context.variables[part.name];
          if (value === undefined) {
            throw new AviaryError(
              'AVIARY_METRIC_TEMPLATE_INVALID',
              `${label}: {{ variables.${part.name} }} is not set; add it to the metric's templateVariables`,
            );
          }
          return checkedValue(part, value, label);
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
