/** The build layer of the pipelines: argv steps in a scrubbed environment, one process group each. */
export { BuildError, type BuildErrorCode } from './build-error.js';
export { runBuild, type BuildOptions, type BuildOutcome, type BuildResult } from './build-runner.js';
export { MASK, maskSecrets, SecretMasker } from './secret-mask.js';
