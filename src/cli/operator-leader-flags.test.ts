/** The `--leader-elect*` flags: Kubernetes' defaults, where the Lease goes, and refusals naming the flag. */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/config-error.js';
import { addLeaderFlags, leaderElectionOf, type LeaderFlags } from './operator-leader-flags.js';

const parsed = (args: string[]): LeaderFlags =>
  addLeaderFlags(new Command().exitOverride()).parse(args, { from: 'user' }).opts<LeaderFlags>();

describe('leaderElectionOf', () => {
  it("is on by default with 15 s / 10 s / 2 s, the Lease in the pod's namespace", () => {
    const election = leaderElectionOf(parsed([]), 'shop', {
      POD_NAMESPACE: 'aviary-system',
      POD_NAME: 'op-1',
    });
    expect(election).toMatchObject({
      namespace: 'aviary-system',
      name: 'aviary-operator-shop',
      timings: { leaseDurationMs: 60_000, renewDeadlineMs: 40_000, retryPeriodMs: 5_000 },
    });
    expect(election?.identity).toMatch(/^op-1_[0-9a-f-]{36}$/);
  });

  it('puts the Lease in the watched namespace outside a pod, or where the flags say', () => {
    expect(leaderElectionOf(parsed([]), 'shop', {})?.namespace).toBe('shop');
    const placed = parsed(['--leader-elect-resource-namespace=ops', '--leader-elect-resource-name=one']);
    expect(leaderElectionOf(placed, 'shop', {})).toMatchObject({ namespace: 'ops', name: 'one' });
  });

  it('is off with --no-leader-elect', () => {
    expect(leaderElectionOf(parsed(['--no-leader-elect']), 'shop', {})).toBeUndefined();
  });

  it('refuses a malformed duration, and timings that would let two leaders overlap, naming the flag', () => {
    expect(() => leaderElectionOf(parsed(['--leader-elect-retry-period=soon']), 'shop', {})).toThrow(
      ConfigError,
    );
    const overlap = parsed(['--leader-elect-lease-duration=10s', '--leader-elect-renew-deadline=10s']);
    expect(() => leaderElectionOf(overlap, 'shop', {})).toThrow(/--leader-elect-lease-duration/);
  });
});
