/**
 * The target interface: what the rollout controller needs from whatever runs the versions
 * of an app. Modelled on Flagger's workload controllers, where each app has a primary
 * (`<app>-primary` Deployment, serving stable traffic) and a canary (the Deployment under
 * analysis). A target runs one workload kind (src/config/app-workload.ts): local processes
 * (`process/`), fixed addresses run by someone else (`endpoints/`), later Kubernetes
 * Deployments. Each passes `runTargetConformance` (test/conformance/target-conformance.ts); benches use an
 * in-memory fake kept under test/fakes.
 */
import type { ProcessSpec } from '../config/app-process.js';
import type { WorkloadSpec } from '../config/app-workload.js';
import { TargetError } from './target-error.js';

/** One version of an app as a target runs it: a spec of the target's workload kind. */
export type VersionSpec = WorkloadSpec;

/** What the rollout state machine knows of a version: its identity and its size. */
export interface DesiredVersion {
  /** Identity of the version (Flagger's `lastAppliedSpec` hash); equal revisions run the same thing. */
  readonly revision: string;
  /** Replicas per role; changing it scales without a new analysis. */
  readonly replicas: number;
}

/**
 * Which of an app's versions: the stable one (`primary`), the one under analysis (`canary`),
 * or, with `analysis.baseline: fresh`, a new copy of the primary's revision started beside the
 * canary for the judge to compare with (`baseline`, Kayenta's baseline; on Kubernetes an
 * `<app>-baseline` Deployment, as Flagger names `<app>-primary`). A target that cannot start
 * copies (fixed endpoints) refuses the baseline role in `ensureVersion`; the config refuses
 * `baseline: fresh` for its kind before that (docs/adr/0018-fresh-baseline.md).
 */
export type VersionRole = 'primary' | 'canary' | 'baseline';

/** Every role, in a fixed order. */
export const VERSION_ROLES: readonly VersionRole[] = ['primary', 'canary', 'baseline'];

/** Life-cycle phase of one replica. */
export type ReplicaPhase = 'starting' | 'running' | 'backoff' | 'stopping';

/**
 * Who a replica is, by workload kind: a local process's id (null while it waits to
 * restart), a pod's name, or the fixed address of a replica run elsewhere.
 */
export type ReplicaIdentity =
  | { readonly pid: number | null; readonly pod?: never; readonly address?: never }
  | { readonly pod: string; readonly pid?: never; readonly address?: never }
  | { readonly address: string; readonly pid?: never; readonly pod?: never };

/** One replica of a version. */
export type ReplicaStatus = ReplicaIdentity & {
  /** Replica index within its revision, 0-based (`AVIARY_REPLICA`). */
  readonly replica: number;
  readonly revision: string;
  readonly phase: ReplicaPhase;
  /** `host:port` where it listens, null while waiting to restart. */
  readonly endpoint: string | null;
  /** True when its readiness probe passes; only ready replicas receive traffic. */
  readonly ready: boolean;
  readonly restarts: number;
  /** True when the replica was found alive by `recover()` rather than started by this instance. */
  readonly adopted: boolean;
};

/** The observed state of one version, the input to the controller's readiness checks. */
export interface VersionStatus {
  readonly app: string;
  readonly role: VersionRole;
  /** Revision the version is converging on (`revisionOf(spec)`). */
  readonly revision: string;
  readonly desiredReplicas: number;
  /** Ready replicas running `revision` (Flagger compares this against `*ReadyThreshold`). */
  readonly readyReplicas: number;
  /** `floor(100 · readyReplicas / desiredReplicas)`; 100 when no replica is desired. */
  readonly readyPercent: number;
  /**
   * Every ready replica as `host:port`, including replicas of the previous revision
   * still serving while their replacements become ready.
   */
  readonly endpoints: readonly string[];
  /** Restarts of `revision`'s replicas since that revision was applied. */
  readonly restarts: number;
  /** The most recent failure of `revision` (crash, failed start, failed liveness), or null. */
  readonly lastError: string | null;
  readonly replicas: readonly ReplicaStatus[];
}

/** Where a log line came from: the replica's stdout or stderr, or the target's own notes. */
export type LogStream = 'stdout' | 'stderr' | 'aviary';

/** One line of a version's output. */
export interface LogLine {
  /** Epoch milliseconds when the line was read. */
  readonly at: number;
  readonly replica: number;
  readonly revision: string;
  readonly stream: LogStream;
  readonly text: string;
}

/** What `recover()` found from a previous controller run. */
export interface RecoveryReport {
  /** Replicas found alive and verified as ours; they are supervised again. */
  readonly adopted: readonly { app: string; role: VersionRole; replica: number; pid: number }[];
  /** Recorded children that were not adopted, and why (dead, not ours, no version). */
  readonly discarded: readonly { pid: number; reason: string }[];
}

/**
 * Starts, scales and stops the versions of apps. Mutating calls take an `AbortSignal`;
 * an already-aborted signal rejects with an `AbortError` before anything changes.
 */
export interface Target<Spec extends VersionSpec = VersionSpec> {
  /** Registry name of the implementation, e.g. `process`. */
  readonly kind: string;
  /**
   * The identity of `spec` (its revision) and its replica count. Pure and cheap: the
   * controller asks at every tick. Replicas must not be part of the revision, so that
   * scaling never starts an analysis.
   */
  identify(spec: Spec): DesiredVersion;
  /**
   * `spec` sized to `replicas` per role, without changing its revision; pure. A kind whose
   * size is fixed by the spec itself (fixed endpoints) returns it unchanged.
   */
  withReplicas(spec: Spec, replicas: number): Spec;
  /**
   * Makes the version run `spec` with its replica count. Same revision: scales and
   * updates probes in place. New revision: starts replacements and stops old replicas one for
   * one as replacements become ready (a surge rollout, like a Deployment with
   * `maxUnavailable: 0`). Resolves once the replicas are started, not when they are ready.
   */
  ensureVersion(app: string, role: VersionRole, spec: Spec, signal?: AbortSignal): Promise<VersionStatus>;
  /** Sets the replica count of an existing version; 0 keeps the version (and its logs) with no process. */
  scale(app: string, role: VersionRole, replicas: number, signal?: AbortSignal): Promise<VersionStatus>;
  /** Copies the canary's spec to the primary, keeping the primary's replica count (Flagger's Promoting). */
  promote(app: string, signal?: AbortSignal): Promise<VersionStatus>;
  /** Current state, or undefined when the version does not exist. */
  status(app: string, role: VersionRole): Promise<VersionStatus | undefined>;
  /** Stops every replica and forgets the version; resolves when all have exited. No-op when absent. */
  stop(app: string, role: VersionRole, signal?: AbortSignal): Promise<void>;
  /** The last `tail` lines (default all that are kept), oldest first; empty when the version is absent. */
  logs(app: string, role: VersionRole, options?: { tail?: number }): Promise<readonly LogLine[]>;
  /** Adopts or cleans up what a previous run left behind. Idempotent; other calls run it first. */
  recover(signal?: AbortSignal): Promise<RecoveryReport>;
  /** Stops every version. Further calls reject with `AVIARY_TARGET_CLOSED`. Idempotent. */
  close(signal?: AbortSignal): Promise<void>;
}

const APP_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Checks that an app name is an RFC 1123 label, as Kubernetes requires of Deployment names.
 * Security: names become file names under the state directory, so this also rules out `..`.
 */
export function assertAppName(app: string): void {
  if (!APP_NAME.test(app)) {
    throw new TargetError(
      'AVIARY_TARGET_INVALID_SPEC',
      `app ${JSON.stringify(app)}: expected a lowercase RFC 1123 label (a-z, 0-9, "-", at most 63 characters)`,
    );
  }
}

/** Largest replica count a target accepts. */
export const MAX_REPLICAS = 100;

/** Checks a replica count; names the version in the error. */
export function assertReplicas(app: string, role: VersionRole, replicas: number): void {
  if (!Number.isInteger(replicas) || replicas < 0 || replicas > MAX_REPLICAS) {
    throw new TargetError(
      'AVIARY_TARGET_INVALID_SPEC',
      `app ${app}, role ${role}: replicas: expected an integer from 0 to ${MAX_REPLICAS}, got ${String(replicas)}`,
    );
  }
}

/** Checks the parts of a process spec every process-like target relies on. */
export function assertVersionSpec(app: string, role: VersionRole, spec: ProcessSpec): void {
  assertAppName(app);
  assertReplicas(app, role, spec.replicas);
  if (spec.command === '') {
    throw new TargetError(
      'AVIARY_TARGET_INVALID_SPEC',
      `app ${app}, role ${role}: command: expected a program, got ""`,
    );
  }
}

/** Error for a call on a version that does not exist. */
export function versionNotFound(app: string, role: VersionRole, action: string): TargetError {
  return new TargetError(
    'AVIARY_TARGET_VERSION_NOT_FOUND',
    `app ${app}, role ${role}: cannot ${action}: no such version; call ensureVersion first`,
  );
}

/** Percentage of desired replicas that are ready, rounded down; 100 when none is desired. */
export function readyPercentOf(readyReplicas: number, desiredReplicas: number): number {
  if (desiredReplicas === 0) return 100;
  return Math.min(100, Math.floor((100 * readyReplicas) / desiredReplicas));
}
