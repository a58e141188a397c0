/**
 * Loads a Flagger `Canary` document (`flagger.app/v1beta1`) into an app's canary block, so
 * users bring their existing Canary files unchanged. Fields that mean something only on
 * Kubernetes (provider, targetRef kind, gateways, CORS, autoscaler…) are reported as ignored
 * with their path and a reason, never dropped silently; unknown fields are errors, as in
 * aviary.yaml. Reference: https://docs.flagger.app/usage/how-it-works
 */
import { canarySchema, type CanarySpec } from './app-canary.js';
import { FLAGGER_MIN_ANALYSIS_INTERVAL_MS } from './app-schema.js';
import { ConfigError, formatPath, type ConfigIssue } from './config-error.js';
import { formatDuration } from './duration.js';
import { describeValue, toConfigIssues } from './schema-issues.js';

/** The only Canary API version accepted. */
export const FLAGGER_API_VERSION = 'flagger.app/v1beta1';

/** True when `document` is a Flagger `Canary` (its `apiVersion` is in the `flagger.app` group). */
export function isFlaggerCanaryDocument(document: unknown): boolean {
  if (typeof document !== 'object' || document === null) return false;
  const { apiVersion, kind } = document as { apiVersion?: unknown; kind?: unknown };
  return kind === 'Canary' && typeof apiVersion === 'string' && apiVersion.startsWith('flagger.app/');
}

/**
 * Where the settings of a Flagger Canary found in `file` go in an `aviary.yaml`, in one line:
 * `aviary up` runs apps, and a Canary only carries one app's canary block.
 */
export function flaggerCanaryPlacement(file: string, document: unknown): string {
  const spec = (document as { spec?: { targetRef?: { name?: unknown } } }).spec;
  const name = typeof spec?.targetRef?.name === 'string' ? spec.targetRef.name : 'spec.targetRef.name';
  return `${file}: a Flagger Canary is not an aviary.yaml; move its spec.service and spec.analysis under apps[].canary of the app named "${name}" (check the Canary alone with: aviary validate ${file})`;
}

/** A field of the Flagger document that has no meaning in Aviary and was left out. */
export interface IgnoredField {
  /** Path in the document, e.g. `spec.service.gateways`. */
  readonly path: string;
  readonly reason: string;
}

/** The Aviary reading of a Flagger Canary. */
export interface FlaggerCanary {
  /** The app the canary rolls out: `spec.targetRef.name`. */
  readonly appName: string;
  /** Same type as an app's canary block in aviary.yaml. */
  readonly canary: CanarySpec;
  readonly ignored: readonly IgnoredField[];
}

/** Options of {@link loadFlaggerCanary}. */
export interface FlaggerCanaryOptions {
  /** Name of the document in error messages. Default `Flagger Canary`. */
  readonly source?: string;
  /** Lower bound on `analysis.interval`; default 10s (Flagger's). */
  readonly minAnalysisIntervalMs?: number;
}

const MESH = 'Aviary routes traffic with its built-in router';
const KUBERNETES_ONLY = 'Kubernetes only; Aviary runs plain processes';
const PORTS = 'Aviary hands each process its port in PORT and serves apps on the router listener';

/** Fields that are read and left out, by path ("*" for any key under a path). */
const IGNORED: readonly (readonly [path: readonly string[], reason: string])[] = [
  [['metadata', 'namespace'], 'Aviary has no namespaces; apps are named in aviary.yaml'],
  [['metadata', '*'], 'Kubernetes object metadata'],
  [['status'], 'status is written by the controller, not read from the document'],
  [['spec', 'provider'], MESH],
  [['spec', 'targetRef', 'apiVersion'], 'the target is the app process named by targetRef.name'],
  [['spec', 'targetRef', 'kind'], 'the target is the app process named by targetRef.name'],
  [['spec', 'autoscalerRef'], 'replicas are set on the app process in aviary.yaml'],
  [['spec', 'ingressRef'], MESH],
  [['spec', 'routeRef'], MESH],
  [['spec', 'upstreamRef'], MESH],
  [['spec', 'revertOnDeletion'], KUBERNETES_ONLY],
  [['spec', 'service', 'port'], PORTS],
  [['spec', 'service', 'targetPort'], PORTS],
  [['spec', 'service', 'portName'], PORTS],
  [['spec', 'service', 'portDiscovery'], PORTS],
  [['spec', 'service', 'name'], 'the app name is spec.targetRef.name'],
  [['spec', 'service', 'hosts'], 'set hosts on the app in aviary.yaml'],
  [['spec', 'service', 'gateways'], MESH],
  [['spec', 'service', 'delegation'], MESH],
  [['spec', 'service', 'trafficPolicy'], MESH],
  [['spec', 'service', 'corsPolicy'], 'CORS is left to the app'],
  [['spec', 'service', 'backends'], MESH],
  [['spec', 'service', 'apex'], KUBERNETES_ONLY],
  [['spec', 'service', 'primary'], KUBERNETES_ONLY],
  [['spec', 'service', 'canary'], KUBERNETES_ONLY],
  [['spec', 'service', 'meshName'], MESH],
];

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Removes the ignorable fields from a copy of the document and says which were there. */
function stripIgnored(document: Record<string, unknown>): {
  rest: Record<string, unknown>;
  ignored: IgnoredField[];
} {
  const rest = structuredClone(document);
  const ignored: IgnoredField[] = [];
  for (const [path, reason] of IGNORED) {
    const parentPath = path.slice(0, -1);
    const key = path.at(-1) ?? '';
    let parent: unknown = rest;
    for (const segment of parentPath) parent = isRecord(parent) ? parent[segment] : undefined;
    if (!isRecord(parent)) continue;
    const keys = key === '*' ? Object.keys(parent).filter((k) => k !== 'name') : [key];
    for (const k of keys) {
      if (!(k in parent)) continue;
      ignored.push({ path: formatPath([...parentPath, k]), reason });
      delete parent[k];
    }
  }
  return { rest, ignored };
}

function requireValue(
  issues: ConfigIssue[],
  path: readonly PropertyKey[],
  value: unknown,
  expected: string,
): value is string {
  if (value === expected) return true;
  issues.push({
    path: formatPath(path),
    message: `expected ${JSON.stringify(expected)}, got ${describeValue(value)}`,
  });
  return false;
}

/**
 * Reads a parsed Flagger Canary document. Throws a {@link ConfigError}
 * (`AVIARY_CONFIG_INVALID`) listing every issue, each with its path in the document
 * (`spec.analysis.metrics[1].thresholdRange.min`).
 */
export function loadFlaggerCanary(document: unknown, options: FlaggerCanaryOptions = {}): FlaggerCanary {
  const source = options.source ?? 'Flagger Canary';
  const minInterval = options.minAnalysisIntervalMs ?? FLAGGER_MIN_ANALYSIS_INTERVAL_MS;
  if (!isRecord(document)) {
    throw new ConfigError(source, [
      { path: '', message: `expected an object, got ${describeValue(document)}` },
    ]);
  }
  const { rest, ignored } = stripIgnored(document);
  const issues: ConfigIssue[] = [];
  requireValue(issues, ['apiVersion'], rest.apiVersion, FLAGGER_API_VERSION);
  requireValue(issues, ['kind'], rest.kind, 'Canary');
  for (const key of Object.keys(rest)) {
    if (!['apiVersion', 'kind', 'metadata', 'spec'].includes(key)) {
      issues.push({ path: key, message: 'unknown field (check the spelling)' });
    }
  }
  const spec = rest.spec;
  if (!isRecord(spec)) {
    issues.push({ path: 'spec', message: `expected an object, got ${describeValue(spec)}` });
    throw new ConfigError(source, issues);
  }
  const { targetRef, ...canaryFields } = spec;
  let appName = '';
  if (!isRecord(targetRef) || typeof targetRef.name !== 'string' || targetRef.name === '') {
    issues.push({ path: 'spec.targetRef.name', message: 'is required (expected the name of the app)' });
  } else {
    appName = targetRef.name;
    for (const key of Object.keys(targetRef).filter((k) => k !== 'name')) {
      issues.push({ path: `spec.targetRef.${key}`, message: 'unknown field (check the spelling)' });
    }
  }
  const metadataName = isRecord(rest.metadata) ? rest.metadata.name : undefined;
  if (typeof metadataName === 'string' && appName !== '' && metadataName !== appName) {
    ignored.push({ path: 'metadata.name', reason: `the app is named by spec.targetRef.name ("${appName}")` });
  }
  const parsed = canarySchema.safeParse(canaryFields, { reportInput: true });
  if (!parsed.success) {
    issues.push(...toConfigIssues(parsed.error.issues, ['spec']));
    throw new ConfigError(source, issues);
  }
  const interval = parsed.data.analysis.interval;
  if (interval < minInterval) {
    issues.push({
      path: 'spec.analysis.interval',
      message: `expected at least ${formatDuration(minInterval)}, got ${formatDuration(interval)}`,
    });
  }
  if (issues.length > 0) throw new ConfigError(source, issues);
  return { appName, canary: parsed.data, ignored };
}
