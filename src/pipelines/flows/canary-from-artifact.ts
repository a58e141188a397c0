/**
 * `onPublish: canary`: the configuration in which `app` runs the newly published `tag` from
 * its artifact's directory. Its process spec gets the artifact directory as `cwd` and the tag
 * as `AVIARY_TAG` (as release entries get it), which changes the app's revision, so the controller starts an analysed
 * canary of it exactly as an edit of `aviary.yaml` would.
 */
import type { AviaryConfig } from '../../config/app-schema.js';
import { workloadKindOf } from '../../config/app-schema.js';
import { FlowError } from './flow-error.js';

/** The environment variable that tells a version which tag it runs. */
export const VERSION_VARIABLE = 'AVIARY_TAG';

/**
 * `config` with `app` running `tag` from `artifactDir`.
 * @param ownedByRelease true when `app` is run from a release file (its versions come from there)
 * @throws FlowError AVIARY_FLOW_CANARY_REFUSED when `app` is not in the configuration, is not a
 *   process workload, or runs from a release file
 */
export function canaryConfigOf(
  config: AviaryConfig,
  app: string,
  tag: string,
  artifactDir: string,
  ownedByRelease: boolean,
): AviaryConfig {
  const refuse = (why: string): never => {
    throw new FlowError('AVIARY_FLOW_CANARY_REFUSED', `onPublish canary of app ${app} at ${tag}: ${why}`);
  };
  const spec = config.apps.find((candidate) => candidate.name === app);
  if (spec === undefined) return refuse('the app is not in aviary.yaml');
  if (ownedByRelease) return refuse('the app runs from a release file; name the tag there instead');
  const workload = spec.workload;
  if (workloadKindOf(workload) !== 'process' || !('command' in workload))
    return refuse(`its workload is ${workloadKindOf(workload)}, and only a process runs from an artifact`);
  const next = { ...workload, cwd: artifactDir, env: { ...workload.env, [VERSION_VARIABLE]: tag } };
  return {
    ...config,
    apps: config.apps.map((candidate) =>
      candidate.name === app ? { ...candidate, workload: next } : candidate,
    ),
  };
}
