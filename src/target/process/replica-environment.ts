/**
 * The contract between the process target and an app process: which environment variables a
 * replica receives. Apps read `PORT` to know where to listen; the `AVIARY_*` variables say who
 * they are, and `AVIARY_INSTANCE` lets a restarted controller prove a process is its own
 * (see process-recovery.ts).
 */

/**
 * Variables passed from the controller's environment to every replica; everything else must
 * be in the spec's `env`. Security: the controller's own secrets are not leaked to apps.
 */
export const DEFAULT_INHERITED_ENV: readonly string[] = [
  'PATH',
  'HOME',
  'USER',
  'LANG',
  'LC_ALL',
  'TZ',
  'TMPDIR',
];

/** Environment variable that marks a process as started by a given target instance. */
export const INSTANCE_MARKER = 'AVIARY_INSTANCE';

/** Who a replica is. */
export interface ReplicaIdentity {
  readonly app: string;
  readonly role: string;
  readonly revision: string;
  readonly replica: number;
  readonly instance: string;
  readonly port: number;
}

/**
 * The full environment of a replica: allow-listed controller variables, then the spec's
 * `env`, then `PORT` and the `AVIARY_*` identity, which the spec cannot override.
 */
export function replicaEnvironment(
  identity: ReplicaIdentity,
  specEnv: Readonly<Record<string, string>>,
  inheritEnv: readonly string[],
  controllerEnv: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of inheritEnv) {
    const value = controllerEnv[name];
    if (value !== undefined) env[name] = value;
  }
  return {
    ...env,
    ...specEnv,
    PORT: String(identity.port),
    AVIARY_APP: identity.app,
    AVIARY_ROLE: identity.role,
    AVIARY_REVISION: identity.revision,
    AVIARY_REPLICA: String(identity.replica),
    [INSTANCE_MARKER]: identity.instance,
  };
}
