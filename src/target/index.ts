/**
 * Public surface of the target family: the interface, the built-in implementations and the
 * registry. The conformance suite (`conformance.ts`) is imported directly by tests, since it
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
export { revisionOf, type ProbeSpec, type VersionSpec } from './version-spec.js';
export {
  builtInTargetRegistry,
  TargetRegistry,
  type TargetContext,
  type TargetFactory,
} from './target-registry.js';
export { ProcessTarget, type ProcessTargetOptions } from './process-target.js';
export { InMemoryTarget, type InMemoryTargetOptions, type SimulatedReadiness } from './in-memory-target.js';
export { installSignalHandlers, type SignalHandlerOptions } from './shutdown-signals.js';
export { DEFAULT_INHERITED_ENV } from './replica-environment.js';
export { DEFAULT_RESTART_BACKOFF, type RestartBackoffOptions } from './restart-backoff.js';
export { formatLogLine } from './version-log.js';
