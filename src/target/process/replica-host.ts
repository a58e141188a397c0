/**
 * The contract between a replica and the version that owns it: what a `ProcessReplica` reads
 * (its app, role, log and the target-wide settings) and whom it tells when it changes or fails.
 * The replica's type is a parameter, so this contract does not import the replica that uses it.
 */
import type { RestartBackoffOptions } from './restart-backoff.js';
import type { VersionRole } from '../target.js';
import type { VersionLog } from './version-log.js';

/** What a replica (of type `Replica`, a `ProcessReplica`) needs from the version that owns it. */
export interface ReplicaHost<Replica> {
  readonly app: string;
  readonly role: VersionRole;
  readonly log: VersionLog;
  readonly settings: ReplicaSettings;
  /** A loopback port that is free and not used by another replica. */
  allocatePort(): Promise<number>;
  /** Readiness, pid or port changed: re-evaluate the version and persist the registry. */
  replicaChanged(replica: Replica): void;
  /** The replica failed and will be restarted; `message` becomes the version's `lastError`. */
  replicaFailed(replica: Replica, message: string): void;
}

/** Target-wide settings of replicas. */
export interface ReplicaSettings {
  readonly instance: string;
  readonly inheritEnv: readonly string[];
  readonly backoff: RestartBackoffOptions;
  readonly stopGraceMs: number;
  readonly adoptedPollMs: number;
  /** Directory of the replicas' output files (`<stateDir>/logs`). */
  readonly logDir: string;
  /** Time between two reads of new output. */
  readonly outputPollMs: number;
  /** Size past which an output file is emptied once read. */
  readonly maxOutputFileBytes: number;
  readonly now: () => number;
}
