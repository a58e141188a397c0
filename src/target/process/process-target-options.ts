/**
 * Options of the process target, and the replica settings they resolve to once the target
 * knows its instance id. The defaults of every option live here.
 */
import { DEFAULT_INHERITED_ENV } from './replica-environment.js';
import type { ReplicaSettings } from './replica-host.js';
import type { RestartBackoffOptions } from './restart-backoff.js';
import type { VersionRole } from '../target.js';

/** Options of `ProcessTarget`. */
export interface ProcessTargetOptions {
  /**
   * Holds `children.json` and `logs/` (version logs and replicas' output files). Created
   * when missing (mode 0700).
   */
  readonly stateDir: string;
  /** Lines kept in memory per version. Default 1000. */
  readonly logLines?: number;
  /** Time between SIGTERM and SIGKILL when stopping. Default 10 s. */
  readonly stopGraceMs?: number;
  /** Restart backoff. Default 200 ms doubling to 30 s, reset after 60 s of stable running. */
  readonly restartBackoff?: RestartBackoffOptions;
  /** How often an adopted process (not our child, so no exit event) is checked. Default 500 ms. */
  readonly adoptedPollMs?: number;
  /**
   * How often the replicas' output files are read for new lines. Default 200 ms. Output
   * reaches `logs()` within about this delay (docs/adr/0013-replica-output-files.md).
   */
  readonly outputPollMs?: number;
  /** Size past which a replica's output file is emptied once read. Default 8 MiB. */
  readonly maxOutputFileBytes?: number;
  /** Controller variables inherited by replicas. Default {@link DEFAULT_INHERITED_ENV}. */
  readonly inheritEnv?: readonly string[];
  /** Port finder, a seam for tests. Default: bind port 0 on 127.0.0.1. */
  readonly allocatePort?: (exclude: ReadonlySet<number>) => Promise<number>;
  /** Clock for run durations and log timestamps. Default `Date.now`. */
  readonly now?: () => number;
  /**
   * Called before a ready replica of a version that keeps running is stopped (scale-down,
   * or an old revision replaced by a ready new one). The controller takes the endpoint out
   * of the router and lets requests in flight finish before the promise resolves.
   */
  readonly onRetiring?: (app: string, role: VersionRole, endpoint: string) => Promise<void>;
}

/** Time between SIGTERM and SIGKILL when `stopGraceMs` is not set. */
export const DEFAULT_STOP_GRACE_MS = 10_000;

/** Lines of log kept in memory per version when `logLines` is not set. */
export const DEFAULT_LOG_LINES = 1000;

/** The settings every replica of the target instance `instance` shares, defaults applied. */
export function replicaSettingsOf(
  options: ProcessTargetOptions,
  instance: string,
  logDir: string,
): ReplicaSettings {
  return {
    logDir,
    outputPollMs: options.outputPollMs ?? 200,
    maxOutputFileBytes: options.maxOutputFileBytes ?? 8 * 1024 * 1024,
    instance,
    inheritEnv: options.inheritEnv ?? DEFAULT_INHERITED_ENV,
    backoff: options.restartBackoff ?? {},
    stopGraceMs: options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS,
    adoptedPollMs: options.adoptedPollMs ?? 500,
    now: options.now ?? Date.now,
  };
}
