/**
 * The identity of a process version: `revisionOf` hashes what it runs (command line, working
 * directory, environment), the analogue of Flagger's `lastAppliedSpec` hash of the pod
 * template. The spec itself is the configuration's (src/config/app-process.ts).
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../config/canonical-json.js';
import type { ProcessSpec } from '../../config/app-process.js';
import type { DesiredVersion } from '../target.js';

export type { ProbeSpec, ProcessSpec } from '../../config/app-process.js';

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
export type VersionIdentity = Pick<ProcessSpec, 'command' | 'args' | 'cwd' | 'env'>;

/** What the state machine knows of a process version: its revision and replica count. */
export function identifyProcess(spec: ProcessSpec): DesiredVersion {
  return { revision: revisionOf(spec), replicas: spec.replicas };
}

/** The same command line with `replicas` processes (the spec itself when unchanged). */
export function processWithReplicas(spec: ProcessSpec, replicas: number): ProcessSpec {
  return spec.replicas === replicas ? spec : { ...spec, replicas };
}
