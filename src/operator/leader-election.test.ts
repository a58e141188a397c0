/**
 * The election's decisions with an injected clock: who may create, renew or take the Lease,
 * and when a leader must stop, with client-go's rule that a standby times a Lease by its own
 * observation of it, never by the holder's `renewTime`.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LEASE_TIMINGS,
  leadershipLost,
  leaseStep,
  leaseTimingProblems,
  microTime,
  releasedSpec,
  type ElectionTime,
  type LeaseObservation,
  type LeaseRead,
  type LeaseTimings,
} from './leader-election.js';

/** client-go's defaults; Aviary's are four times as long (DEFAULT_LEASE_TIMINGS). */
const timings: LeaseTimings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };
const WALL = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const at = (monotonicMs: number): ElectionTime => ({ monotonicMs, wallMs: WALL + monotonicMs });
const heldBy = (holder: string, resourceVersion: string, transitions = 0): LeaseRead => ({
  resourceVersion,
  spec: {
    holderIdentity: holder,
    leaseDurationSeconds: 15,
    acquireTime: microTime(WALL - 60_000),
    // A holder whose clock is an hour behind: the standby must not read this.
    renewTime: microTime(WALL - 3_600_000),
    leaseTransitions: transitions,
  },
});

describe('leaseStep', () => {
  it('creates the Lease when there is none, holding it with the configured duration', () => {
    const { step } = leaseStep(undefined, undefined, 'b', at(0), timings);
    expect(step).toEqual({
      kind: 'create',
      spec: {
        holderIdentity: 'b',
        leaseDurationSeconds: 15,
        acquireTime: '2026-01-02T03:04:05.678000Z',
        renewTime: '2026-01-02T03:04:05.678000Z',
        leaseTransitions: 0,
      },
    });
  });

  it('renews its own Lease with the resourceVersion read, keeping acquireTime and transitions', () => {
    const lease = heldBy('a', '7', 3);
    const { step } = leaseStep(lease, undefined, 'a', at(2_000), timings);
    expect(step).toEqual({
      kind: 'update',
      resourceVersion: '7',
      renewal: true,
      spec: expect.objectContaining({
        holderIdentity: 'a',
        acquireTime: lease.spec.acquireTime,
        renewTime: microTime(WALL + 2_000),
        leaseTransitions: 3,
      }) as unknown,
    });
  });

  it("waits while another candidate's Lease has been seen unchanged for less than its duration, by the standby's own clock", () => {
    let observed: LeaseObservation | undefined;
    const lease = heldBy('a', '7');
    for (const ms of [100, 5_000, 15_099]) {
      const next = leaseStep(lease, observed, 'b', at(ms), timings);
      expect(next.step).toEqual({ kind: 'wait', holder: 'a', expiresAtMs: 15_100 });
      observed = next.observed;
    }
    const taken = leaseStep(lease, observed, 'b', at(15_100), timings);
    expect(taken.step).toMatchObject({
      kind: 'update',
      resourceVersion: '7',
      renewal: false,
      spec: { holderIdentity: 'b', leaseTransitions: 1, acquireTime: microTime(WALL + 15_100) },
    });
  });

  it('starts the wait again whenever the holder renews (a new resourceVersion)', () => {
    let { observed } = leaseStep(heldBy('a', '7'), undefined, 'b', at(0), timings);
    ({ observed } = leaseStep(heldBy('a', '8'), observed, 'b', at(14_000), timings));
    const { step } = leaseStep(heldBy('a', '8'), observed, 'b', at(20_000), timings);
    expect(step).toEqual({ kind: 'wait', holder: 'a', expiresAtMs: 29_000 });
  });

  it("times the wait by the Lease's own duration, not the standby's", () => {
    const lease: LeaseRead = {
      ...heldBy('a', '7'),
      spec: { ...heldBy('a', '7').spec, leaseDurationSeconds: 60 },
    };
    const { observed } = leaseStep(lease, undefined, 'b', at(0), timings);
    expect(leaseStep(lease, observed, 'b', at(59_999), timings).step.kind).toBe('wait');
    expect(leaseStep(lease, observed, 'b', at(60_000), timings).step.kind).toBe('update');
  });

  it('takes a released Lease (no holder) at once', () => {
    const lease: LeaseRead = { resourceVersion: '9', spec: { leaseDurationSeconds: 1, leaseTransitions: 2 } };
    const { step } = leaseStep(lease, undefined, 'b', at(0), timings);
    expect(step).toMatchObject({
      kind: 'update',
      renewal: false,
      spec: { holderIdentity: 'b', leaseTransitions: 3 },
    });
  });
});

describe('leadershipLost', () => {
  it('holds until the renew deadline after the last renewal sent, and no longer', () => {
    expect(leadershipLost(1_000, 10_999, timings)).toBe(false);
    expect(leadershipLost(1_000, 11_000, timings)).toBe(true);
  });

  it('lets the leader stop before any standby may take over: deadline < duration', () => {
    // The renewal sent at 0 reaches the API server no earlier; a standby observes it then.
    const renewedAt = 0;
    const standbyObservedAt = renewedAt;
    const firstLostAt = renewedAt + timings.renewDeadlineMs;
    const { observed } = leaseStep(heldBy('a', '7'), undefined, 'b', at(standbyObservedAt), timings);
    expect(leadershipLost(renewedAt, firstLostAt, timings)).toBe(true);
    expect(leaseStep(heldBy('a', '7'), observed, 'b', at(firstLostAt), timings).step.kind).toBe('wait');
  });
});

describe('releasedSpec', () => {
  it('gives up only a Lease this candidate holds, with no holder and 1 s', () => {
    expect(releasedSpec(heldBy('a', '7', 4), 'b', WALL)).toBeUndefined();
    expect(releasedSpec(heldBy('a', '7', 4), 'a', WALL)).toEqual({
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: microTime(WALL),
      renewTime: microTime(WALL),
      leaseTransitions: 4,
    });
  });
});

describe('leaseTimingProblems', () => {
  it("accepts client-go's and Aviary's defaults and refuses timings that would let two leaders overlap", () => {
    expect(leaseTimingProblems(timings)).toEqual([]);
    expect(leaseTimingProblems(DEFAULT_LEASE_TIMINGS)).toEqual([]);
    expect(leaseTimingProblems({ ...timings, renewDeadlineMs: 15_000 })[0]).toMatch(
      /--leader-elect-lease-duration \(15000 ms\) must be longer than --leader-elect-renew-deadline/,
    );
    expect(leaseTimingProblems({ ...timings, retryPeriodMs: 9_000 })[0]).toMatch(
      /1.2 × --leader-elect-retry-period/,
    );
    expect(leaseTimingProblems({ ...timings, leaseDurationMs: 15_500 })[0]).toMatch(/whole seconds/);
  });
});
