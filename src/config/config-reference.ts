/**
 * The configuration reference, generated from the schemas themselves (their JSON Schema
 * form, as users write documents): every field with its type, default and limits. The
 * committed docs/configuration.md is this output; a test fails when they drift apart.
 */
import { z } from 'zod';
import { metricTemplateSchema } from './metric-template.js';
import { aviaryConfigSchema } from './app-schema.js';
import { proxyConfigSchema } from './proxy-schema.js';
import { releaseEntrySchema, releaseSettingsSchema } from './release-schema.js';

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  pattern?: string;
  format?: string;
}

interface Row {
  path: string;
  type: string;
  required: boolean;
  default: string;
  limits: string;
}

function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return [...new Set(alternatives.map(typeOf))].join(' or ');
  if (s.type === 'array') return `list of ${s.items ? typeOf(s.items) : 'any'}`;
  if (s.type === 'object' && !s.properties && typeof s.additionalProperties === 'object') {
    return `map of ${typeOf(s.additionalProperties)}`;
  }
  if (Array.isArray(s.type)) return s.type.join(' or ');
  return s.type ?? 'any';
}

function limitsOf(s: JsonSchema): string {
  const parts: string[] = [];
  if (s.minimum !== undefined) parts.push(`>= ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) parts.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined) parts.push(`<= ${s.maximum}`);
  if (s.exclusiveMaximum !== undefined) parts.push(`< ${s.exclusiveMaximum}`);
  if (s.minItems !== undefined) parts.push(`at least ${s.minItems} item(s)`);
  if (s.maxItems !== undefined) parts.push(`at most ${s.maxItems} item(s)`);
  if (s.minLength !== undefined && s.minLength > 0) parts.push('non-empty');
  if (s.format !== undefined) parts.push(s.format);
  if (s.pattern !== undefined) parts.push(`pattern \`${s.pattern.replace(/\|/g, '\\|')}\``);
  for (const alt of s.anyOf ?? s.oneOf ?? []) {
    const inner = limitsOf(alt);
    if (inner !== '') parts.push(inner);
  }
  return [...new Set(parts)].join(', ');
}

function walk(s: JsonSchema, path: string, required: boolean, rows: Row[]): void {
  if (path !== '') {
    rows.push({
      path,
      type: typeOf(s),
      required,
      default: s.default === undefined ? '' : `\`${JSON.stringify(s.default)}\``,
      limits: limitsOf(s),
    });
  }
  for (const alt of s.anyOf ?? s.oneOf ?? []) if (alt.properties || alt.items) descend(alt, path, rows);
  descend(s, path, rows);
}

function descend(s: JsonSchema, path: string, rows: Row[]): void {
  if (s.properties) {
    const required = new Set(s.required ?? []);
    for (const [key, child] of Object.entries(s.properties)) {
      walk(child, path === '' ? key : `${path}.${key}`, required.has(key), rows);
    }
  }
  if (s.items) descend(s.items, `${path}[]`, rows);
  if (typeof s.additionalProperties === 'object' && !s.properties) {
    descend(s.additionalProperties, `${path}.<name>`, rows);
  }
}

/** Every field of a schema as table rows, in document order, one row per field. */
export function fieldsOf(schema: z.ZodType): Row[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const rows: Row[] = [];
  walk(json, '', true, rows);
  // A field that several alternatives define (a union's discriminator, e.g. `router.kind`) is
  // one row: its types joined, required only when every alternative requires it.
  const merged = new Map<string, Row>();
  for (const row of rows) {
    const first = merged.get(row.path);
    if (!first) merged.set(row.path, { ...row });
    else if (first.type !== row.type) {
      first.type = `${first.type} \\| ${row.type}`;
      first.required &&= row.required;
    }
  }
  return [...merged.values()];
}

const SECTIONS: readonly { title: string; intro: string; schema: z.ZodType }[] = [
  {
    title: '`aviary.yaml` (`apiVersion: aviary.dev/v1alpha1`, `kind: Aviary`)',
    intro:
      'Run with `aviary up -f FILE`. Durations accept `500ms`, `15s`, `1m` or a number of milliseconds. A Flagger `Canary` document (`flagger.app/v1beta1`) maps onto `apps[].canary`: `spec.service`, `spec.analysis`, `spec.progressDeadlineSeconds`, `spec.skipAnalysis` and `spec.suspend` keep their names, `spec.targetRef.name` names the app, and fields with no meaning here are reported as ignored.',
    schema: aviaryConfigSchema,
  },
  {
    title: 'Metric templates (`metricTemplates[]`)',
    intro: 'Flagger `MetricTemplate`s, referenced from `analysis.metrics[].templateRef`.',
    schema: metricTemplateSchema,
  },
  {
    title: 'Proxy configuration (`aviary proxy --config FILE`)',
    intro: 'The built-in proxy run standalone; also the body of its admin API `PUT /config`.',
    schema: proxyConfigSchema,
  },
  {
    title: 'Release file entries (`aviary apply -f FILE`)',
    intro:
      "A release file is `app:` plus `versions:` (or a Helm values file's `canaryConfig:`), a list of these entries; weights are relative, 0–100, at most 10 entries.",
    schema: releaseEntrySchema,
  },
  {
    title: 'Release settings (`apps[].releases`)',
    intro:
      "The optional `releases` block of a `process` app in `aviary.yaml` (its fields are also listed above): how a release file's tag becomes a running version of the app.",
    schema: releaseSettingsSchema,
  },
];

/** The whole reference as Markdown. */
export function renderConfigReference(): string {
  const out = [
    '# Configuration reference',
    '',
    '<!-- Generated from the schemas by `npm run docs:config`; test/docs/configuration-reference.test.ts fails when it is stale. -->',
    '',
    'Every input is validated by one schema; an error names the path of the bad field and what was expected.',
  ];
  for (const section of SECTIONS) {
    out.push(
      '',
      `## ${section.title}`,
      '',
      section.intro,
      '',
      '| field | type | required | default | limits |',
      '|---|---|---|---|---|',
    );
    for (const row of fieldsOf(section.schema)) {
      out.push(
        `| \`${row.path}\` | ${row.type} | ${row.required ? 'yes' : ''} | ${row.default} | ${row.limits} |`,
      );
    }
  }
  return out.join('\n') + '\n';
}
