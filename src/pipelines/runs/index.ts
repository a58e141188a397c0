/** The runs layer of the pipelines: durable runs, their logs and events, and the queue that runs them. */
export { RunError, type RunErrorCode } from './run-error.js';
export { appendRunLog, readRunLog, type ReadRunLogOptions } from './run-log.js';
export {
  describeGroup,
  killLeftoverGroups,
  markedGroups,
  RUN_MARKER_VARIABLE,
  type ReportedGroup,
} from './run-process-groups.js';
export {
  MAX_ATTEMPTS,
  RunQueue,
  type RunContext,
  type RunExecutor,
  type RunOutcome,
  type RunQueueOptions,
} from './run-queue.js';
export {
  compareRunIds,
  isTerminal,
  nextRunId,
  PIPELINES,
  RUN_ID,
  RUN_STATES,
  runRecordSchema,
  TERMINAL_STATES,
  type PipelineKind,
  type RunInput,
  type RunRecord,
  type RunState,
} from './run-record.js';
export { DEFAULT_MAX_RUNS, RunStore, type RunPatch, type RunStoreOptions } from './run-store.js';
