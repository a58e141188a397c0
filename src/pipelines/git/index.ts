/** The git layer of the pipelines: a per-source bare cache driven through the git CLI. */
export { assertObjectId, assertRefName, assertRepositoryUrl, assertTreePath } from './git-arguments.js';
export { fetchRef, lsRemote, openCache, peelToCommit, resolve, showFile } from './git-cache.js';
export type { GitCache, GitCallOptions } from './git-cache.js';
export { GitError, type GitErrorCode } from './git-error.js';
export { exportTree } from './tree-export.js';
