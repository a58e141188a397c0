/**
 * A worker process of the analysis bench: runs the jobs its parent sends, one at a time, and
 * answers each with its results (pool.ts). Started by `fork` with the parent's loader flags.
 */
import { runJob, type Job } from './jobs.js';

process.on('message', (job: Job) => {
  runJob(job).then(
    (results) => process.send?.({ job, results }),
    (err: unknown) => process.send?.({ job, error: err instanceof Error ? err.stack : String(err) }),
  );
});
