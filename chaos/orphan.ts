/**
 * The `orphan-replica` fault of the runner's own test: a process carrying the run's marker
 * in a process group the run does not know, as a replica that a controller forgot would be.
 * It proves that the runner's "left behind" check can fail.
 */
import type { RunScope } from './run-scope.js';

/** Starts a marked process that outlives its parent and every group the run knows (it exits by itself after 60 s). */
export function spawnOrphan(scope: RunScope): void {
  const grandchild = `require('node:child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], {detached: true, stdio: 'ignore'}).unref()`;
  scope.spawn(process.execPath, ['-e', grandchild]);
}
