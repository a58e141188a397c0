/**
 * What the state machine knows of an app: its name, its canary block and the version it
 * should run, as a revision id and a replica count. It never sees a workload block: the
 * target that runs the app computes the revision (src/target/target.ts `identify`), so a
 * process, a set of fixed endpoints or a Kubernetes Deployment roll out alike.
 */
import type { AppSpec } from '../../config/app-schema.js';

/** The version an app should run: its revision id and how many replicas each role runs. */
export interface DesiredVersion {
  /** Identity of the version (Flagger's `lastAppliedSpec` hash); equal revisions run the same thing. */
  readonly revision: string;
  /** Replicas per role; changing it scales without a new analysis. */
  readonly replicas: number;
}

/** The input spec of `step`: the app's name and canary block, and its desired version. */
export interface RolloutSpec {
  readonly name: string;
  readonly canary: AppSpec['canary'];
  readonly desired: DesiredVersion;
}
