/**
 * Runs the bench's jobs on a few worker processes (the machine has two shared cores), handing
 * each worker its next job as soon as it answers. Results come back in job order.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runJob, type Job } from './jobs.js';
import type { RolloutResult } from './run-rollout.js';

interface Answer {
  readonly job: Job;
  readonly results?: RolloutResult[];
  readonly error?: string;
}

/** Runs `jobs` on `workers` processes (in this process when 1); `onDone` after each job. */
export async function runJobs(
  jobs: readonly Job[],
  workers: number,
  onDone: (done: number, total: number) => void = () => undefined,
): Promise<RolloutResult[][]> {
  const results: RolloutResult[][] = new Array<RolloutResult[]>(jobs.length);
  let done = 0;
  if (workers <= 1) {
    for (const [i, job] of jobs.entries()) {
      results[i] = await runJob(job);
      onDone(++done, jobs.length);
    }
    return results;
  }
  let next = 0;
  const path = fileURLToPath(new URL('./worker.ts', import.meta.url));
  const children: ChildProcess[] = [];
  await new Promise<void>((resolve, reject) => {
    const give = (child: ChildProcess): void => {
      if (next < jobs.length) {
        const index = next++;
        child.once('message', (answer: Answer) => {
          if (answer.error !== undefined || answer.results === undefined) {
            reject(new Error(`bench worker failed on ${JSON.stringify(answer.job)}: ${answer.error}`));
            return;
          }
          results[index] = answer.results;
          onDone(++done, jobs.length);
          if (done === jobs.length) resolve();
          else give(child);
        });
        child.send({ ...jobs[index]! });
      }
    };
    for (let i = 0; i < Math.min(workers, jobs.length); i++) {
      const child = fork(path, [], {
        execArgv: process.execArgv,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      child.on('exit', (code) => {
        if (code !== 0 && done < jobs.length) reject(new Error(`bench worker exited with ${code}`));
      });
      children.push(child);
      give(child);
    }
  }).finally(() => {
    for (const child of children) if (child.connected) child.disconnect();
  });
  return results;
}
