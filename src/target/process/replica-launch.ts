/**
 * Starting a replica's process: the spec's command in a new process group (`detached`, so
 * the group can be signalled as a whole), with the environment of `replica-environment.ts`,
 * and its stdout and stderr appended to the replica's output files (`replica-output.ts`),
 * never to a pipe, so the process outlives the controller without dying of EPIPE.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync } from 'node:fs';
import { replicaEnvironment, type ReplicaIdentity } from './replica-environment.js';
import type { ChildOutputDescriptors } from './replica-output.js';
import type { ProcessSpec } from './version-spec.js';

/** What a replica process is started with, and where its end is reported. */
export interface ReplicaLaunch {
  readonly spec: ProcessSpec;
  readonly identity: ReplicaIdentity;
  /** Controller variables passed on (see `DEFAULT_INHERITED_ENV`). */
  readonly inheritEnv: readonly string[];
  /** Descriptors of the output files; closed here once the child holds its own copies. */
  readonly output: ChildOutputDescriptors;
  /** The process failed to start or exited; `how` says which, e.g. `exited with code 1`. */
  readonly onExit: (how: string) => void;
}

/**
 * Spawns a replica; a spawn failure is reported through `onExit`. Security: an args array
 * with `shell: false`, so no string of the spec is ever parsed by a shell.
 */
export function launchReplica(launch: ReplicaLaunch): ChildProcess {
  const { spec, output } = launch;
  let child: ChildProcess;
  try {
    child = spawn(spec.command, [...spec.args], {
      ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
      env: replicaEnvironment(launch.identity, spec.env, launch.inheritEnv),
      shell: false,
      detached: true,
      stdio: ['ignore', output.stdout, output.stderr],
    });
  } finally {
    // The child has its own copies (dup2 at spawn); ours would keep the files open for nothing.
    closeSync(output.stdout);
    closeSync(output.stderr);
  }
  child.once('error', (error) => launch.onExit(`failed to start: ${error.message}`));
  child.once('exit', (code, signal) =>
    launch.onExit(signal === null ? `exited with code ${code ?? 0}` : `was killed by ${signal}`),
  );
  return child;
}
