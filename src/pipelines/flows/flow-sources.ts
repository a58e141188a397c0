/**
 * What the flows need to know of a configured source, as the wiring hands it over (already
 * validated by the configuration schema, secrets already read from their files or
 * variables). The clone URL is always this one, never a webhook payload's.
 */
import { createHash } from 'node:crypto';
import type { ForgeStatusTarget } from './forge-status.js';

/** A repository whose tags are built (the developer's pipeline). */
export interface BuildSource {
  /** The source's name, an RFC 1123 label; it names the git cache. */
  readonly name: string;
  /** The app the artifacts belong to. */
  readonly app: string;
  /** The clone URL from Aviary's configuration. */
  readonly url: string;
  /** Argv arrays, run in order in the exported tree; never through a shell. */
  readonly steps: readonly (readonly string[])[];
  /** The directory, relative to the tree, that is published when every step passed. */
  readonly outputDir: string;
  /** Time limit of the whole build. */
  readonly timeoutMs: number;
  /** Variables the steps get. */
  readonly env?: Readonly<Record<string, string>>;
  /** Variables the steps get whose values are masked as `***` in the run log. */
  readonly secrets?: Readonly<Record<string, string>>;
  /** `canary`: start an analysed canary of each newly published tag. Default: publish only. */
  readonly onPublish?: 'canary';
  /** Where commit statuses go; none are posted without it. */
  readonly status?: ForgeStatusTarget;
}

/** A deploy repository whose branch holds a release file (the operator's pipeline). */
export interface ReleaseSource {
  readonly name: string;
  /** The app the release file is applied to. */
  readonly app: string;
  readonly url: string;
  /** The deploy branch, e.g. `main`. */
  readonly branch: string;
  /** The release file's path in the repository, e.g. `deploy/catalogdetail.yaml`. */
  readonly releaseFile: string;
  readonly status?: ForgeStatusTarget;
}

/**
 * The build key of a source's build configuration: the SHA-256 of its steps and output
 * directory, so the same commit built another way is another artifact (and a changed build
 * configuration rebuilds rather than reuses). Env and secret values are left out on purpose:
 * a rotated secret must not change the key.
 */
export function buildKeyOf(source: Pick<BuildSource, 'steps' | 'outputDir'>): string {
  const hash = createHash('sha256').update(
    JSON.stringify({ steps: source.steps, outputDir: source.outputDir }),
  );
  return `sha256-${hash.digest('hex')}`;
}
