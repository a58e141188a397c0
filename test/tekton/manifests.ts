/**
 * The shipped Tekton manifests (deploy/tekton/*.yaml) as parsed objects, the recorded GitHub
 * push payloads (test/tekton/payloads/), and what Tekton Triggers does with them between
 * the interceptors and the API server: a TriggerBinding's `$(body.…)` and `$(header.…)`
 * read from a delivery, then a TriggerTemplate's `$(tt.params.…)` substituted as text into
 * its resource templates (tektoncd/triggers pkg/template), so that tests can run the real
 * YAML on real payloads.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/** deploy/tekton, absolute. */
export const TEKTON_DIR = fileURLToPath(new URL('../../deploy/tekton', import.meta.url));
/** test/tekton/payloads, absolute. */
export const PAYLOADS_DIR = fileURLToPath(new URL('./payloads', import.meta.url));

/** A Kubernetes object as plain data. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly spec?: any;
  readonly [field: string]: unknown;
}

/** The YAML files of deploy/tekton, sorted (the order `kubectl apply -f` uses). */
export async function manifestFiles(): Promise<string[]> {
  const names = (await readdir(TEKTON_DIR)).filter((n) => n.endsWith('.yaml')).sort();
  return names.map((n) => join(TEKTON_DIR, n));
}

/** Every object of deploy/tekton, in file order. */
export async function loadManifests(): Promise<Manifest[]> {
  const objects: Manifest[] = [];
  for (const file of await manifestFiles()) {
    for (const doc of parseAllDocuments(await readFile(file, 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]!.message}`);
      const value = doc.toJS() as Manifest | null;
      if (value !== null) objects.push(value);
    }
  }
  return objects;
}

/** The one object of `kind` named `name`; throws naming what exists. */
export function manifest(objects: readonly Manifest[], kind: string, name: string): Manifest {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (found === undefined) {
    const known = objects.filter((o) => o.kind === kind).map((o) => o.metadata.name);
    throw new Error(`no ${kind} ${name} in deploy/tekton (there are: ${known.join(', ') || 'none'})`);
  }
  return found;
}

/** A recorded push payload by file name (without .json). */
export async function payload(name: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(PAYLOADS_DIR, `${name}.json`), 'utf8')) as Record<string, unknown>;
}

/** A delivery as an EventListener sees it after the interceptors. */
export interface Delivery {
  readonly body: Record<string, unknown>;
  /** Header names as sent; matched case-insensitively, as Triggers canonicalises them. */
  readonly headers: Readonly<Record<string, string>>;
}

function lookup(value: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>(
    (at, key) => (at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[key] : undefined),
    value,
  );
}

/**
 * The value of one binding expression such as `$(body.head_commit.id)` or
 * `$(header.X-GitHub-Delivery)`; throws when the delivery has no such field, as Triggers
 * then refuses the event.
 */
export function bindingValue(expression: string, delivery: Delivery): string {
  const match = /^\$\((body|header)\.([^)]+)\)$/.exec(expression);
  if (match === null) return expression;
  const [, root, path] = match as unknown as [string, 'body' | 'header', string];
  const value =
    root === 'body'
      ? lookup(delivery.body, path.split('.'))
      : Object.entries(delivery.headers).find(([name]) => name.toLowerCase() === path.toLowerCase())?.[1];
  if (value === undefined || value === null) throw new Error(`${expression}: no such field in the delivery`);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The params a TriggerBinding gives for a delivery. */
export function bindParams(binding: Manifest, delivery: Delivery): Record<string, string> {
  const params = (binding.spec?.params ?? []) as { name: string; value: string }[];
  return Object.fromEntries(params.map((p) => [p.name, bindingValue(p.value, delivery)]));
}

/**
 * A TriggerTemplate's resource templates with `params` (and the template's defaults)
 * substituted; throws on a template param with neither.
 */
export function renderTemplate(template: Manifest, params: Readonly<Record<string, string>>): Manifest[] {
  const declared = (template.spec?.params ?? []) as { name: string; default?: string }[];
  const values = new Map<string, string>();
  for (const p of declared) {
    const value = params[p.name] ?? p.default;
    if (value === undefined)
      throw new Error(`TriggerTemplate ${template.metadata.name}: no value for ${p.name}`);
    values.set(p.name, value);
  }
  const text = JSON.stringify(template.spec?.resourcetemplates ?? []).replace(
    /\$\(tt\.params\.([A-Za-z0-9_-]+)\)/g,
    (whole, name: string) => {
      const value = values.get(name);
      if (value === undefined) throw new Error(`${whole}: not a param of ${template.metadata.name}`);
      // Substituted inside a JSON string: escape as JSON would.
      return JSON.stringify(value).slice(1, -1);
    },
  );
  return JSON.parse(text) as Manifest[];
}
