/**
 * Starting a replica's process: the spec's command in a new process group (`detached`, so
 * the group can be signalled as a whole), with the environment of `replica-environment.ts`,
 * and its stdout and stderr piped into the version log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { replicaEnvironment, type ReplicaIdentity } from './replica-environment.js';
import type { VersionLog } from './version-log.js';
import type { ProcessSpec } from './version-spec.js';

/** What a replica process is started with, and where its end is reported. */
export interface ReplicaLaunch {
  readonly spec: ProcessSpec;
  readonly identity: ReplicaIdentity;
  /** Controller variables passed on (see `DEFAULT_INHERITED_ENV`). */
  readonly inheritEnv: readonly string[];
  readonly log: VersionLog;
  /** The process failed to start or exited; `how` says which, e.g. `exited with code 1`. */
  readonly onExit: (how: string) => void;
  /** The process wrote EADDRINUSE on stderr: its port was taken before it could bind it. */
  readonly onAddressInUse: () => void;
}

/**
 * Spawns a replica. Output is attached only when the spawn produced a pid; a spawn failure
 * is reported through `onExit`. Security: an args array with `shell: false`, so no string of
 * the spec is ever parsed by a shell.
 */
export function launchReplica(launch: ReplicaLaunch): ChildProcess {
  const { spec } = launch;
  const child = spawn(spec.command, [...spec.args], {
    ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
    env: replicaEnvironment(launch.identity, spec.env, launch.inheritEnv),
    shell: false,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.once('error', (error) => launch.onExit(`failed to start: ${error.message}`));
  child.once('exit', (code, signal) =>
    launch.onExit(signal === null ? `exited with code ${code ?? 0}` : `was killed by ${signal}`),
  );
  if (child.pid !== undefined) attachOutput(child, launch);
  return child;
}

function attachOutput(child: ChildProcess, launch: ReplicaLaunch): void {
  const { log } = launch;
  const { replica, revision } = launch.identity;
  if (child.stdout !== null) log.attach(child.stdout, replica, revision, 'stdout');
  if (child.stderr !== null) {
    log.attach(child.stderr, replica, revision, 'stderr');
    child.stderr.on('data', (chunk: string) => {
      if (chunk.includes('EADDRINUSE')) launch.onAddressInUse();
    });
  }
}
