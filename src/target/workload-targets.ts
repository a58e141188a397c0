/**
 * One {@link Target} over a target per workload kind: what the controller and the release
 * manager drive when apps of several kinds run side by side. A spec goes to the target of
 * its kind; calls that name only an app go to the target that runs it. Targets are built on
 * first use, or up front for the kinds the configuration names (so the process target can
 * adopt what a previous run left).
 */
import { workloadKindOf, type WorkloadKind } from '../config/app-workload.js';
import type {
  DesiredVersion,
  LogLine,
  RecoveryReport,
  Target,
  VersionRole,
  VersionSpec,
  VersionStatus,
} from './target.js';

/** {@link Target} dispatching to one target per workload kind. */
export class WorkloadTargets implements Target {
  readonly kind = 'workloads';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each kind's target takes its own spec
  readonly #targets = new Map<WorkloadKind, Target<any>>();
  /** The kind each app runs as, learnt from `ensureVersion` or found by `status`. */
  readonly #owners = new Map<string, WorkloadKind>();

  /**
   * @param create builds the target of a kind (see `targetRegistry`).
   * @param kinds kinds to build now, e.g. every kind the configuration uses.
   */
  constructor(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each kind's target takes its own spec
    private readonly create: (kind: WorkloadKind) => Target<any>,
    kinds: readonly WorkloadKind[] = [],
  ) {
    for (const kind of kinds) this.targetOf(kind);
  }

  /** The target of `kind`, built on first use. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each kind's target takes its own spec
  targetOf(kind: WorkloadKind): Target<any> {
    let target = this.#targets.get(kind);
    if (!target) {
      target = this.create(kind);
      this.#targets.set(kind, target);
    }
    return target;
  }

  identify(spec: VersionSpec): DesiredVersion {
    return this.targetOf(workloadKindOf(spec)).identify(spec);
  }

  withReplicas(spec: VersionSpec, replicas: number): VersionSpec {
    return this.targetOf(workloadKindOf(spec)).withReplicas(spec, replicas) as VersionSpec;
  }

  async ensureVersion(
    app: string,
    role: VersionRole,
    spec: VersionSpec,
    signal?: AbortSignal,
  ): Promise<VersionStatus> {
    const kind = workloadKindOf(spec);
    const previous = await this.#ownerOf(app);
    // An app that changes kind leaves the old target's versions behind: stop them first.
    if (previous !== undefined && previous !== kind) await this.targetOf(previous).stop(app, role, signal);
    this.#owners.set(app, kind);
    return this.targetOf(kind).ensureVersion(app, role, spec, signal);
  }

  async scale(
    app: string,
    role: VersionRole,
    replicas: number,
    signal?: AbortSignal,
  ): Promise<VersionStatus> {
    return (await this.#targetRunning(app)).scale(app, role, replicas, signal);
  }

  async promote(app: string, signal?: AbortSignal): Promise<VersionStatus> {
    return (await this.#targetRunning(app)).promote(app, signal);
  }

  async status(app: string, role: VersionRole): Promise<VersionStatus | undefined> {
    const kind = await this.#ownerOf(app);
    return kind === undefined ? undefined : this.targetOf(kind).status(app, role);
  }

  async stop(app: string, role: VersionRole, signal?: AbortSignal): Promise<void> {
    const kind = await this.#ownerOf(app);
    if (kind !== undefined) await this.targetOf(kind).stop(app, role, signal);
  }

  async logs(app: string, role: VersionRole, options?: { tail?: number }): Promise<readonly LogLine[]> {
    const kind = await this.#ownerOf(app);
    return kind === undefined ? [] : this.targetOf(kind).logs(app, role, options);
  }

  async recover(signal?: AbortSignal): Promise<RecoveryReport> {
    const reports = await Promise.all([...this.#targets.values()].map((t) => t.recover(signal)));
    return {
      adopted: reports.flatMap((r) => r.adopted),
      discarded: reports.flatMap((r) => r.discarded),
    };
  }

  async close(signal?: AbortSignal): Promise<void> {
    await Promise.all([...this.#targets.values()].map((t) => t.close(signal)));
  }

  /** The target that runs `app`, or the first kind's when none does (it answers "not found"). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each kind's target takes its own spec
  async #targetRunning(app: string): Promise<Target<any>> {
    const kind = (await this.#ownerOf(app)) ?? [...this.#targets.keys()][0] ?? 'process';
    return this.targetOf(kind);
  }

  /** The kind `app` runs as: remembered, else the first built target that has a version of it. */
  async #ownerOf(app: string): Promise<WorkloadKind | undefined> {
    const known = this.#owners.get(app);
    if (known !== undefined) return known;
    for (const [kind, target] of this.#targets) {
      const found = (await target.status(app, 'primary')) ?? (await target.status(app, 'canary'));
      if (found) {
        this.#owners.set(app, kind);
        return kind;
      }
    }
    return undefined;
  }
}
