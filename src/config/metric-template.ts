/**
 * Flagger's `MetricTemplate` (https://docs.flagger.app/usage/metrics#custom-metrics) as the
 * top-level `metricTemplates` list of aviary.yaml: where to query (`provider`) and what
 * (`query`, a template). Apps reference one from `analysis.metrics[].templateRef`. The schema,
 * the lookup by reference and the cross-checks between templates and the metrics that use
 * them live here, so the config schema only has to call them.
 *
 * ```yaml
 * metricTemplates:
 *   - name: error-rate
 *     provider: {type: prometheus, address: http://127.0.0.1:9090}
 *     query: sum(rate(http_errors_total{app="{{ target }}"}[{{ interval }}]))
 * ```
 */
import { z } from 'zod';
import { formatPath, type ConfigIssue } from './config-error.js';
import { customVariablesOf, parseTemplate } from './metric-template-syntax.js';

/** Namespace of a template or reference that names none (Aviary reports apps in `default`). */
export const DEFAULT_TEMPLATE_NAMESPACE = 'default';

/**
 * Every `provider.type` a template may name. metrics/provider-registry.ts has one factory per
 * type (its test checks that the two lists agree).
 */
export const METRIC_PROVIDER_TYPES = ['prometheus'] as const;

/** One of {@link METRIC_PROVIDER_TYPES}. */
export type MetricProviderType = (typeof METRIC_PROVIDER_TYPES)[number];

const providerSchema = z
  .strictObject({
    type: z.string().min(1),
    address: z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' }),
    /** Sent with every query, e.g. `Authorization`. Security: never logged or shown. */
    headers: z.record(z.string(), z.string()).optional(),
    /**
     * Flagger reads credentials from a Kubernetes Secret; aviary.yaml has no secrets to read.
     * Accepted so a Flagger template loads, reported by {@link metricTemplateWarnings}, ignored.
     */
    secretRef: z.strictObject({ name: z.string().min(1) }).optional(),
  })
  .superRefine((provider, ctx) => {
    if (!(METRIC_PROVIDER_TYPES as readonly string[]).includes(provider.type)) {
      ctx.addIssue({
        code: 'custom',
        path: ['type'],
        message: `unknown metric provider type "${provider.type}"; known types: ${METRIC_PROVIDER_TYPES.join(', ')}`,
      });
    }
  });

/** Schema of one entry of `metricTemplates`. */
export const metricTemplateSchema = z.strictObject({
  name: z.string().min(1),
  namespace: z.string().min(1).optional(),
  provider: providerSchema,
  query: z
    .string()
    .min(1)
    .superRefine((query, ctx) => {
      const parsed = parseTemplate(query);
      if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.message });
    }),
});

/** A validated metric template. */
export type MetricTemplate = z.output<typeof metricTemplateSchema>;

/** What `analysis.metrics[].templateRef` holds. */
export interface TemplateRef {
  readonly name: string;
  readonly namespace?: string | undefined;
}

/** The template `ref` names, or undefined. */
export function findTemplate(
  templates: readonly MetricTemplate[],
  ref: TemplateRef,
): MetricTemplate | undefined {
  const namespace = ref.namespace ?? DEFAULT_TEMPLATE_NAMESPACE;
  return templates.find(
    (t) => t.name === ref.name && (t.namespace ?? DEFAULT_TEMPLATE_NAMESPACE) === namespace,
  );
}

/** `name` or `namespace/name`, for messages. */
export function templateLabel(ref: TemplateRef): string {
  return ref.namespace === undefined ? ref.name : `${ref.namespace}/${ref.name}`;
}

/** A metric as far as template checks are concerned. */
interface TemplatedMetric {
  readonly templateRef?: TemplateRef | undefined;
  readonly templateVariables?: Readonly<Record<string, string>> | undefined;
}

/** An issue with its path as a list, for a zod refinement context. */
export interface PathIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * Cross-checks of a whole config: template names unique per namespace; every `templateRef`
 * names a template; every `{{ variables.X }}` of a template is set by each metric using it.
 */
export function templateIssues(
  templates: readonly MetricTemplate[],
  apps: readonly {
    readonly canary: { readonly analysis: { readonly metrics: readonly TemplatedMetric[] } };
  }[],
): PathIssue[] {
  const issues: PathIssue[] = [];
  const seen = new Map<string, number>();
  templates.forEach((t, i) => {
    const key = templateLabel({ name: t.name, namespace: t.namespace ?? DEFAULT_TEMPLATE_NAMESPACE });
    const first = seen.get(key);
    if (first !== undefined) {
      issues.push({
        path: ['metricTemplates', i, 'name'],
        message: `duplicate metric template "${key}" (also metricTemplates[${first}])`,
      });
    } else seen.set(key, i);
  });
  const known = templates.map((t) => templateLabel(t)).join(', ');
  apps.forEach((app, a) => {
    app.canary.analysis.metrics.forEach((metric, m) => {
      const ref = metric.templateRef;
      if (ref === undefined) return;
      const at = ['apps', a, 'canary', 'analysis', 'metrics', m];
      const template = findTemplate(templates, ref);
      if (template === undefined) {
        issues.push({
          path: [...at, 'templateRef', 'name'],
          message: `unknown metric template "${templateLabel(ref)}"; define it under metricTemplates${known === '' ? '' : ` (known: ${known})`}`,
        });
        return;
      }
      const missing = customVariablesOf(template.query).filter(
        (name) => metric.templateVariables?.[name] === undefined,
      );
      if (missing.length > 0) {
        issues.push({
          path: [...at, 'templateVariables'],
          message: `metric template "${templateLabel(ref)}" uses ${missing.map((v) => `{{ variables.${v} }}`).join(', ')}; set ${missing.join(', ')} in templateVariables`,
        });
      }
    });
  });
  return issues;
}

/** Fields accepted for compatibility but ignored, as path-named notes to print at startup. */
export function metricTemplateWarnings(templates: readonly MetricTemplate[]): ConfigIssue[] {
  return templates.flatMap((t, i) =>
    t.provider.secretRef === undefined
      ? []
      : [
          {
            path: formatPath(['metricTemplates', i, 'provider', 'secretRef']),
            message: `not supported outside Kubernetes and ignored (secret "${t.provider.secretRef.name}" is not read); put credentials in provider.headers instead`,
          },
        ],
  );
}
