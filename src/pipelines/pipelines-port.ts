/**
 * What the control API, the CLI and the dashboard see of a running Aviary's pipelines
 * (docs/adr/0023-git-pipelines.md): its runs and their queue when a `pipelines` block is
 * configured, and the artifact store, which exists whenever Aviary runs (release files may
 * name published tags). The runtime builds it; the runs API only reads and commands it.
 */
import type { ArtifactEntry } from './artifacts/artifact-index.js';
import type { ArtifactStore } from './artifacts/artifact-store.js';
import type { RunQueue } from './runs/run-queue.js';
import type { RunStore } from './runs/run-store.js';

/** A running Aviary's pipelines, as the runs API uses them. */
export interface PipelinesPort {
  /** Every run (each change emitted as `run`); undefined when no `pipelines` block is configured. */
  readonly runs: RunStore | undefined;
  /** Cancels and reruns runs; undefined with {@link runs}. */
  readonly queue: Pick<RunQueue, 'cancel' | 'rerun'> | undefined;
  readonly artifacts: ArtifactStore;
  /** True when a running release file names this artifact's tag: garbage collection keeps it. */
  referenced(entry: ArtifactEntry): boolean;
}
