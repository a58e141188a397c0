/**
 * One version (app + role) on the process target: the set of replicas running its current
 * revision, plus replicas of the previous revision that keep serving until their
 * replacements are ready. A revision change is a surge rollout, like a Deployment with
 * `maxSurge: 100%, maxUnavailable: 0`: Flagger's Promoting phase copies the canary spec to
 * the primary while the primary still carries traffic, so the primary must not go dark.
 */
import type { ChildRecord } from './child-registry.js';
import { DEFAULT_READINESS_PLAN, httpProbePlan, type ProbePlan } from '../probe.js';
import { ProcessReplica } from './process-replica.js';
import type { ReplicaHost, ReplicaSettings } from './replica-host.js';
import { readyPercentOf, type VersionRole, type VersionStatus } from '../target.js';
import { revisionOf, type ProcessSpec } from './version-spec.js';
import type { VersionLog } from './version-log.js';

/** What a version needs from the target that owns it. */
export interface VersionHost {
  readonly settings: ReplicaSettings;
  allocatePort(): Promise<number>;
  /** Something worth persisting changed (a pid, a port, a replica set). */
  changed(): void;
  /**
   * A ready replica is about to be stopped while its version lives on (scale-down or surge
   * replacement): the router is told first, so no new request reaches it after it stops.
   */
  retiring(endpoint: string): Promise<void>;
}

/** Replicas of one app and role. */
export class ProcessVersion implements ReplicaHost<ProcessReplica> {
  #spec: ProcessSpec;
  #revision: string;
  #current: ProcessReplica[] = [];
  #outgoing: ProcessReplica[] = [];
  readonly #stopping = new Set<Promise<void>>();
  #restarts = 0;
  #lastError: string | null = null;

  constructor(
    private readonly host: VersionHost,
    readonly app: string,
    readonly role: VersionRole,
    spec: ProcessSpec,
    readonly log: VersionLog,
  ) {
    this.#spec = spec;
    this.#revision = revisionOf(spec);
  }

  get settings(): ReplicaSettings {
    return this.host.settings;
  }

  get spec(): ProcessSpec {
    return this.#spec;
  }

  /** Runs `spec`: scales in place when the revision is unchanged, otherwise starts replacements. */
  async apply(spec: ProcessSpec): Promise<void> {
    const revision = revisionOf(spec);
    this.#spec = spec;
    if (revision === this.#revision) {
      const [readiness, liveness] = plansOf(spec);
      for (const replica of this.#current) replica.updateProbes(spec, readiness, liveness);
    } else {
      this.log.write(0, revision, 'aviary', `applying revision ${revision} (replacing ${this.#revision})`);
      this.#outgoing.push(...this.#current);
      this.#current = [];
      this.#revision = revision;
      this.#restarts = 0;
      this.#lastError = null;
    }
    await this.#converge();
  }

  /** Sets the replica count of the current revision. */
  async scale(replicas: number): Promise<void> {
    this.#spec = { ...this.#spec, replicas };
    await this.#converge();
  }

  /**
   * Takes over processes found by `recover()`. Those of the current revision fill their
   * replica slots; those of an older revision drain as if a rollout were under way.
   */
  async adopt(records: readonly ChildRecord[]): Promise<void> {
    for (const record of records) {
      const isCurrent = record.revision === this.#revision;
      const replica = this.#newReplica(record.revision, record.replica, isCurrent ? this.#spec : undefined);
      replica.adopt(record);
      const taken = this.#current.some((r) => r.replica === record.replica);
      if (isCurrent && !taken) this.#current.push(replica);
      else this.#outgoing.push(replica);
    }
    await this.#converge();
  }

  /** Stops every replica and resolves when all have exited. Aborting `signal` skips the grace period. */
  async stopAll(signal?: AbortSignal): Promise<void> {
    const all = [...this.#current, ...this.#outgoing];
    this.#current = [];
    this.#outgoing = [];
    await Promise.all([...all.map((replica) => replica.stop(signal)), ...this.#stopping]);
    await this.log.close();
  }

  /** Stops supervising, leaving the processes running for a later `recover()`. */
  async release(): Promise<void> {
    for (const replica of [...this.#current, ...this.#outgoing]) replica.release();
    await this.log.close();
  }

  /** Registry entries of every live process of this version. */
  records(): ChildRecord[] {
    return [...this.#current, ...this.#outgoing].flatMap((replica) => replica.record() ?? []);
  }

  /** Output files of this version's replicas. */
  outputPaths(): string[] {
    return [...this.#current, ...this.#outgoing].flatMap((replica) => replica.outputPaths);
  }

  /** Ports held by this version's replicas. */
  ports(): number[] {
    return [...this.#current, ...this.#outgoing].flatMap((replica) => replica.port ?? []);
  }

  status(): VersionStatus {
    const all = [...this.#current, ...this.#outgoing];
    const ready = this.#current.filter((replica) => replica.ready).length;
    return {
      app: this.app,
      role: this.role,
      revision: this.#revision,
      desiredReplicas: this.#spec.replicas,
      readyReplicas: ready,
      readyPercent: readyPercentOf(ready, this.#spec.replicas),
      endpoints: all.filter((replica) => replica.ready).map((replica) => `127.0.0.1:${replica.port ?? 0}`),
      restarts: this.#restarts,
      lastError: this.#lastError,
      replicas: all.map((replica) => replica.status()),
    };
  }

  allocatePort(): Promise<number> {
    return this.host.allocatePort();
  }

  replicaChanged(): void {
    this.#retireOutgoing();
    this.host.changed();
  }

  replicaFailed(replica: ProcessReplica, message: string): void {
    // A draining replica of an older revision is not worth restarting: its replacement is coming.
    if (this.#outgoing.includes(replica)) return this.#retire(replica);
    if (replica.revision !== this.#revision) return;
    this.#restarts += 1;
    this.#lastError = message;
  }

  async #converge(): Promise<void> {
    const desired = this.#spec.replicas;
    const surplus = this.#current.length - desired;
    if (surplus > 0) {
      // Like a ReplicaSet scaling down: unready replicas go first, then the highest indexes.
      const byPreference = [...this.#current].sort(
        (a, b) => Number(a.ready) - Number(b.ready) || b.replica - a.replica,
      );
      for (const replica of byPreference.slice(0, surplus)) this.#retire(replica);
    }
    const starts: Promise<void>[] = [];
    for (let index = 0; this.#current.length < desired; index++) {
      if (this.#current.some((replica) => replica.replica === index)) continue;
      const replica = this.#newReplica(this.#revision, index, this.#spec);
      this.#current.push(replica);
      starts.push(replica.start());
    }
    this.#current.sort((a, b) => a.replica - b.replica);
    await Promise.all(starts);
    this.#retireOutgoing();
    this.host.changed();
  }

  /** Stops old-revision replicas one for one as current ones become ready. */
  #retireOutgoing(): void {
    const ready = this.#current.filter((replica) => replica.ready).length;
    const keep = Math.max(0, this.#spec.replicas - ready);
    const byPreference = [...this.#outgoing].sort((a, b) => Number(a.ready) - Number(b.ready));
    for (const replica of byPreference.slice(0, Math.max(0, this.#outgoing.length - keep)))
      this.#retire(replica);
  }

  #retire(replica: ProcessReplica): void {
    this.#current = this.#current.filter((r) => r !== replica);
    this.#outgoing = this.#outgoing.filter((r) => r !== replica);
    const endpoint = replica.ready && replica.port !== null ? `127.0.0.1:${replica.port}` : undefined;
    const drained =
      endpoint === undefined ? Promise.resolve() : this.host.retiring(endpoint).catch(() => undefined);
    const stopping = drained
      .then(() => replica.stop())
      .then(() => this.#closeLogOf(replica.revision))
      .finally(() => this.#stopping.delete(stopping));
    this.#stopping.add(stopping);
  }

  /** Closes the log file of `revision` once no replica of it is left and it is not the current one. */
  async #closeLogOf(revision: string): Promise<void> {
    const inUse = [...this.#current, ...this.#outgoing].some((replica) => replica.revision === revision);
    if (revision !== this.#revision && !inUse) await this.log.closeRevision(revision);
  }

  #newReplica(revision: string, index: number, spec: ProcessSpec | undefined): ProcessReplica {
    // An adopted replica of an older revision is never restarted with the current spec; its
    // own spec is gone, so it runs on with a TCP readiness check until it is retired.
    const [readiness, liveness] = spec === undefined ? [DEFAULT_READINESS_PLAN, undefined] : plansOf(spec);
    return new ProcessReplica(this, revision, index, spec ?? this.#spec, readiness, liveness);
  }
}

function plansOf(spec: ProcessSpec): [ProbePlan, ProbePlan | undefined] {
  const readiness =
    spec.readinessProbe === undefined ? DEFAULT_READINESS_PLAN : httpProbePlan(spec.readinessProbe);
  const liveness = spec.livenessProbe === undefined ? undefined : httpProbePlan(spec.livenessProbe);
  return [readiness, liveness];
}
