/**
 * The `--leader-elect*` flags of `aviary operator` (docs/adr/0032-operator-leader-election.md),
 * named as kube-controller-manager's and kube-scheduler's are: on by default, a Lease of 60 s
 * renewed within 40 s, tried every 5 s (four times their defaults: see DEFAULT_LEASE_TIMINGS).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { ConfigError } from '../config/config-error.js';
import { parseDuration } from '../config/duration.js';
import {
  DEFAULT_LEASE_TIMINGS,
  leaseTimingProblems,
  type LeaseTimings,
} from '../operator/leader-election.js';

/** The flags as commander hands them over. */
export interface LeaderFlags {
  leaderElect: boolean;
  leaderElectLeaseDuration: string;
  leaderElectRenewDeadline: string;
  leaderElectRetryPeriod: string;
  leaderElectResourceName?: string;
  leaderElectResourceNamespace?: string;
}

/** Leader election as the flags set it, or undefined when `--leader-elect=false`. */
export interface LeaderElection {
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly timings: LeaseTimings;
}

function duration(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0)
    throw new ConfigError(flag, [{ path: flag, message: `expected a duration such as 15s, got "${text}"` }]);
  return ms;
}

/**
 * Leader election from the flags, for an operator over `namespace`: the Lease
 * `aviary-operator-<namespace>` in the pod's namespace (`$POD_NAMESPACE`), else in
 * `namespace`; the identity `$POD_NAME` (else the host name) and a random UUID, as client-go
 * makes it. @throws ConfigError naming the flag when a duration is malformed or the three do
 * not leave a leader time to stop before a standby takes over.
 */
export function leaderElectionOf(
  flags: LeaderFlags,
  namespace: string,
  env: NodeJS.ProcessEnv = process.env,
): LeaderElection | undefined {
  const timings: LeaseTimings = {
    leaseDurationMs: duration('--leader-elect-lease-duration', flags.leaderElectLeaseDuration),
    renewDeadlineMs: duration('--leader-elect-renew-deadline', flags.leaderElectRenewDeadline),
    retryPeriodMs: duration('--leader-elect-retry-period', flags.leaderElectRetryPeriod),
  };
  const problems = leaseTimingProblems(timings);
  if (problems.length > 0)
    throw new ConfigError(
      '--leader-elect-lease-duration',
      problems.map((message) => ({ path: message.split(' ')[0]!, message })),
    );
  if (!flags.leaderElect) return undefined;
  return {
    namespace: flags.leaderElectResourceNamespace ?? env.POD_NAMESPACE ?? namespace,
    name: flags.leaderElectResourceName ?? `aviary-operator-${namespace}`,
    identity: `${env.POD_NAME ?? hostname()}_${randomUUID()}`,
    timings,
  };
}

const seconds = (ms: number): string => `${ms / 1_000}s`;

/** Adds the flags to `command`. */
export function addLeaderFlags(command: Command): Command {
  return command
    .option('--no-leader-elect', 'run without leader election (only ever one operator per namespace)')
    .option(
      '--leader-elect-lease-duration <duration>',
      'how long a standby waits after the last renewal before taking the Lease',
      seconds(DEFAULT_LEASE_TIMINGS.leaseDurationMs),
    )
    .option(
      '--leader-elect-renew-deadline <duration>',
      'how long the leader acts without renewing before it exits',
      seconds(DEFAULT_LEASE_TIMINGS.renewDeadlineMs),
    )
    .option(
      '--leader-elect-retry-period <duration>',
      'pause between tries to acquire or renew the Lease',
      seconds(DEFAULT_LEASE_TIMINGS.retryPeriodMs),
    )
    .option('--leader-elect-resource-name <name>', 'the Lease (default aviary-operator-<namespace>)')
    .option(
      '--leader-elect-resource-namespace <namespace>',
      "the Lease's namespace (default $POD_NAMESPACE, else --namespace)",
    );
}
