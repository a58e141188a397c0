/**
 * What the soak deploys: the demo's `aviary.yaml` (`demoConfigInput` of src/cli/demo-story.ts,
 * its fast intervals) with one release of each app. Releases alternate: an odd release of
 * catalogdetail is good and must be promoted, an even one is faulty as the demo's v3 is
 * (10% of answers 500, 60 to 180 ms slower) and must be rolled back by the judge. Each good
 * release also gives the frontend a new revision, promoted without analysis.
 */
import { rename, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { demoConfigInput } from '../src/cli/demo-story.js';
import type { AviaryConfigInput } from '../src/config/app-schema.js';

/** Where the soak's Aviary listens and keeps its state. */
export interface SoakPlacement {
  readonly stateDir: string;
  readonly routerPort: number;
  readonly apiPort: number;
}

/** One release of catalogdetail: release 0 is the first primary. */
export interface Release {
  readonly number: number;
  readonly faulty: boolean;
  /** catalogdetail's `VERSION`, which its answers name. */
  readonly version: string;
}

/** Release `n` (0 the first primary, then good and faulty by turns). */
export function releaseOf(n: number): Release {
  return { number: n, faulty: n > 0 && n % 2 === 0, version: String(n + 1) };
}

/** catalogdetail's environment for `release`. */
function catalogEnv(release: Release): Record<string, string> {
  const env = { VERSION: release.version };
  return release.faulty ? { ...env, FAIL_RATE: '0.1', EXTRA_LATENCY_MS: '120' } : env;
}

/** The soak's `aviary.yaml` document for `release`. */
export function soakConfig(placement: SoakPlacement, release: Release): AviaryConfigInput {
  const input = demoConfigInput({ ...placement, fast: true }, catalogEnv(release));
  // The frontend's revision changes with each good release: the last good one it was given.
  const frontendRelease = String(release.faulty ? release.number - 1 : release.number);
  return {
    ...input,
    apps: input.apps?.map((app) =>
      app.name === 'frontend' && app.process !== undefined
        ? { ...app, process: { ...app.process, env: { ...app.process.env, RELEASE: frontendRelease } } }
        : app,
    ),
  };
}

/** Writes the config for `release` to `file` as an editor saving by rename would: never half a file. */
export async function writeSoakConfig(
  file: string,
  placement: SoakPlacement,
  release: Release,
): Promise<void> {
  const temporary = `${file}.${release.number}.tmp`;
  await writeFile(
    temporary,
    `# Written by npm run soak (release ${release.number}).\n${stringify(soakConfig(placement, release))}`,
  );
  await rename(temporary, file);
}
