/**
 * The two pipelines of issue 14 as run executors, with every side effect injected: the
 * developer's tag → build → publish and the operator's deploy push → release, their commit
 * statuses, and the poll backstop of the deploy branch.
 */
export { AppliedCommits } from './applied-commits.js';
export { buildFlow, type BuildFlowOptions, type StartCanary } from './build-flow.js';
export {
  BUILD_STATUS_CONTEXT,
  RELEASE_STATUS_CONTEXT,
  reportStatus,
  type StatusPoster,
} from './commit-status.js';
export { FlowError, type FlowErrorCode } from './flow-error.js';
export { buildKeyOf, type BuildSource, type ReleaseSource } from './flow-sources.js';
export { postCommitStatus, type CommitStatus, type ForgeStatusTarget } from './forge-status.js';
export { pollSource, type PollResult, type PollSourceOptions } from './poll-source.js';
export {
  applyThroughReleaseManager,
  deployRef,
  releaseFlow,
  type ApplyRelease,
  type ReleaseApplier,
  type ReleaseFlowOptions,
} from './release-flow.js';
