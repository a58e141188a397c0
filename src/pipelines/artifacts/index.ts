/** The artifact layer of the pipelines: a content-addressed, read-only store and its tag index. */
export { ArtifactError, type ArtifactErrorCode } from './artifact-error.js';
export type { ArtifactEntry } from './artifact-index.js';
export {
  artifactStoreRoot,
  ArtifactStore,
  type CollectionReport,
  type Published,
  type PublishRequest,
  type TagRequest,
} from './artifact-store.js';
export { digestTree } from './tree-digest.js';
