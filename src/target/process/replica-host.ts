/**
 * The contract between a replica and the version that owns it: what a `ProcessReplica` reads
 * (its app, role, log and the target-wide settings) and whom it tells when it changes or fails.
 */
import type { ProcessReplica } from './process-replica.js';
import type { RestartBackoffOptions } from './restart-backoff.js';
import type { VersionRole } from '../target.js';
import type { VersionLog } from './version-log.js';

/** What a replica needs from the version that owns it. */
export interface ReplicaHost {
  readonly app: string;
  readonly role: VersionRole;
  readonly log: VersionLog;
  readonly settings: ReplicaSettings;
  /** A loopback port that is free and not used by another replica. */
  allocatePort(): Promise<number>;
  /** Readiness, pid or port changed: re-evaluate the version and persist the registry. */
  replicaChanged(replica: ProcessReplica): void;
  /** The replica failed and will be restarted; `message` becomes the version's `lastError`. */
  replicaFailed(replica: ProcessReplica, message: string): void;
}

/** Target-wide settings of replicas. */
export interface ReplicaSettings {
  readonly instance: string;
  readonly inheritEnv: readonly string[];
  readonly backoff: RestartBackoffOptions;
  readonly stopGraceMs: number;
  readonly adoptedPollMs: number;
  readonly now: () => number;
}
