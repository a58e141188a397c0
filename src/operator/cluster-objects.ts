/**
 * `MetricTemplate` and `AlertProvider` objects (aviary.dev/v1alpha1, Flagger's spec shape) as
 * the forms `aviary.yaml` gives the evaluators: validated by the same schemas
 * (src/config/metric-template.ts, src/config/alert-providers.ts), so a template or provider
 * means in the cluster exactly what it means in a file. Pure: no I/O, no cache; the operator's
 * caches hand objects in (cluster-analysis.ts).
 *
 * Every message names the object and the field, e.g.
 * `MetricTemplate default/foo: spec.provider.address: expected an http(s) URL`.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { alertProviderSchema } from '../config/alert-providers.js';
import { metricTemplateSchema, type MetricTemplate } from '../config/metric-template.js';
import { parseWithSchema } from '../config/schema-issues.js';
import type { AlertProviderConfig } from '../notify/alert-types.js';

/** The API group version of both kinds, as the CRDs in deploy/kubernetes/crds serve them. */
export const ANALYSIS_API_VERSION = 'aviary.dev/v1alpha1';

/** A MetricTemplate or AlertProvider as the API server returns it. */
export interface AnalysisObject extends KubernetesObject {
  readonly spec?: Record<string, unknown>;
}

/**
 * An object read into its evaluator's form: `notes` are fields accepted (the CRD allows them,
 * so a Flagger object applies) but not honoured, each naming the field and why.
 */
export type ReadObject<T> =
  | { readonly ok: true; readonly value: T; readonly notes: readonly string[] }
  | { readonly ok: false; readonly error: string };

/** Why the operator ignores `secretRef` (deploy/kubernetes/operator/10-rbac.yaml, at its top). */
const NO_SECRETS =
  'the operator has no access to Secrets by design (deploy/kubernetes/operator/10-rbac.yaml)';

/** `Kind namespace/name`, the way every message names an object. */
export function objectLabel(kind: string, namespace: string, name: string): string {
  return `${kind} ${namespace}/${name}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Schema input paths (`name`, `provider.address`) as the object's own (`metadata.name`, `spec.provider.address`). */
function objectPath(path: string): string {
  return path === 'name' || path === 'namespace' ? `metadata.${path}` : `spec.${path}`;
}

function parsed<T>(
  label: string,
  result: ReturnType<typeof parseWithSchema<T>>,
  notes: readonly string[],
): ReadObject<T> {
  if (result.ok) return { ok: true, value: result.value, notes: notes.map((note) => `${label}: ${note}`) };
  const issues = result.issues.map((issue) => `${objectPath(issue.path)}: ${issue.message}`);
  return { ok: false, error: `${label}: ${issues.join('; ')}` };
}

/**
 * A `MetricTemplate` object as the `metricTemplates` entry it stands for (its namespace always
 * set). `spec.provider.secretRef` is kept and reported, as in aviary.yaml; `insecureSkipVerify`
 * and `region` (CRD fields that aviary.yaml has not) are dropped and reported.
 */
export function metricTemplateOf(object: AnalysisObject): ReadObject<MetricTemplate> {
  const namespace = object.metadata?.namespace ?? '';
  const label = objectLabel('MetricTemplate', namespace, object.metadata?.name ?? '');
  const spec = isRecord(object.spec) ? object.spec : {};
  const notes: string[] = [];
  let provider = spec.provider;
  if (isRecord(provider)) {
    const { insecureSkipVerify, region, ...rest } = provider;
    provider = rest;
    if (insecureSkipVerify === true)
      notes.push('spec.provider.insecureSkipVerify: ignored; Aviary always verifies TLS certificates');
    if (region !== undefined)
      notes.push(
        'spec.provider.region: ignored; only cloud metric providers have a region, and Aviary has none',
      );
    if (isRecord(rest.secretRef)) {
      notes.push(
        `spec.provider.secretRef: ignored (Secret "${String(rest.secretRef.name)}" is not read: ${NO_SECRETS}); queries go without credentials, so point the template at a Prometheus that needs none`,
      );
    }
  }
  const input = { name: object.metadata?.name, namespace, provider, query: spec.query };
  return parsed(label, parseWithSchema(metricTemplateSchema, input), notes);
}

/**
 * An `AlertProvider` object as the `alertProviders` entry it stands for. `spec.secretRef` and
 * `spec.proxy` (Flagger fields the CRD accepts) are not honoured and reported.
 */
export function alertProviderOf(object: AnalysisObject): ReadObject<AlertProviderConfig> {
  const namespace = object.metadata?.namespace ?? '';
  const label = objectLabel('AlertProvider', namespace, object.metadata?.name ?? '');
  const { secretRef, proxy, ...spec } = isRecord(object.spec) ? object.spec : {};
  const notes: string[] = [];
  if (isRecord(secretRef)) {
    notes.push(
      `spec.secretRef: ignored (Secret "${String(secretRef.name)}" is not read: ${NO_SECRETS}); alerts go to spec.address`,
    );
  }
  if (proxy !== undefined) notes.push('spec.proxy: ignored; alerts are posted directly to spec.address');
  return parsed(label, parseWithSchema(alertProviderSchema, { name: object.metadata?.name, ...spec }), notes);
}
