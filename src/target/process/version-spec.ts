/**
 * What a target runs for one version of an app: the command line, its environment, the
 * replica count and the probes. The configuration schema validates user input into this
 * shape; targets take it as given. `revisionOf` is the version's identity, the analogue of
 * Flagger's `lastAppliedSpec` hash of the pod template.
 */
import { createHash } from 'node:crypto';

/**
 * An HTTP GET probe, with Kubernetes probe semantics
 * (https://kubernetes.io/docs/concepts/configuration/liveness-readiness-startup-probes/):
 * a response status 200–399 is a success; anything else, a refused connection or no answer
 * within `timeoutMs` is a failure.
 */
export interface ProbeSpec {
  /** Request path, e.g. `/ping`. */
  readonly path: string;
  /** Time between the end of one probe and the start of the next. */
  readonly intervalMs: number;
  /** A probe without a complete response in this time fails. */
  readonly timeoutMs: number;
  /** Consecutive successes that turn the state healthy. */
  readonly successThreshold: number;
  /** Consecutive failures that turn the state unhealthy. */
  readonly failureThreshold: number;
  /** Delay after the process starts before the first probe. */
  readonly initialDelayMs: number;
}

/** One version of an app as a target runs it. */
export interface VersionSpec {
  /** Executable; resolved on the `PATH` the target hands the process. Never run through a shell. */
  readonly command: string;
  /** Arguments, passed as an array (no shell word-splitting or expansion). */
  readonly args: readonly string[];
  /** Working directory; the controller's own when absent. */
  readonly cwd?: string;
  /** Extra environment variables. They are part of the revision, so a changed value is a new version. */
  readonly env: Readonly<Record<string, string>>;
  /** Desired number of replicas (≥ 0). Not part of the revision: scaling is not a new version. */
  readonly replicas: number;
  /** Gates traffic: only ready replicas are endpoints. */
  readonly readinessProbe?: ProbeSpec;
  /** Restarts a replica after `failureThreshold` consecutive failures. */
  readonly livenessProbe?: ProbeSpec;
}

/** Length of a revision in hex characters (48 bits: collisions are not a concern at this scale). */
export const REVISION_LENGTH = 12;

/**
 * The revision of a spec: the first 12 hex characters of the SHA-256 of the canonical JSON
 * (keys sorted, no whitespace) of `{command, args, cwd, env}`. Replicas are left out so that
 * scaling never starts an analysis (Flagger hashes the pod template, which holds no replica
 * count, for the same reason); probes because they change how a version is watched, not
 * what it runs.
 */
export function revisionOf(spec: VersionIdentity): string {
  const known = revisions.get(spec);
  if (known !== undefined) return known;
  const identity = { command: spec.command, args: spec.args, cwd: spec.cwd ?? null, env: spec.env };
  const revision = createHash('sha256')
    .update(canonicalJson(identity))
    .digest('hex')
    .slice(0, REVISION_LENGTH);
  revisions.set(spec, revision);
  return revision;
}

/**
 * Revisions already computed, per spec object. Specs are read-only values (a changed
 * version is a new object), and the controller asks for the revision of the same spec at
 * every tick of every app: hashing it each time was a tenth of the bench's allocations.
 */
const revisions = new WeakMap<VersionIdentity, string>();

/** The fields of a spec that make up its revision. */
export type VersionIdentity = Pick<VersionSpec, 'command' | 'args' | 'cwd' | 'env'>;

/** JSON with object keys sorted at every depth, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
