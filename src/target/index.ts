/**
 * Public surface of the target family: the interface, the built-in implementations and the
 * registry. The conformance suite (test/conformance/target-conformance.ts) is imported directly by tests, since it
 * depends on vitest.
 */
export type {
  LogLine,
  LogStream,
  RecoveryReport,
  ReplicaPhase,
  ReplicaStatus,
  Target,
  VersionRole,
  VersionStatus,
} from './target.js';
export { VERSION_ROLES, MAX_REPLICAS } from './target.js';
export { TargetError, type TargetErrorCode } from './target-error.js';
export { revisionOf, type ProbeSpec, type ProcessSpec } from './process/version-spec.js';
export { targetRegistry, type TargetContext, type TargetFactory } from './target-registry.js';
export { WorkloadTargets } from './workload-targets.js';
export { EndpointsTarget } from './endpoints/endpoints-target.js';
export { ProcessTarget, type ProcessTargetOptions } from './process/process-target.js';
export { installSignalHandlers, type SignalHandlerOptions } from './process/shutdown-signals.js';
export { DEFAULT_INHERITED_ENV } from './process/replica-environment.js';
export { DEFAULT_RESTART_BACKOFF, type RestartBackoffOptions } from './process/restart-backoff.js';
export { formatLogLine } from './process/version-log.js';
