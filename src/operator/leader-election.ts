/**
 * Leader election on a `coordination.k8s.io/v1` Lease, as a pure function of the Lease read,
 * what this candidate observed of it, its identity and its clock
 * (docs/adr/0032-operator-leader-election.md). It follows client-go's `leaderelection`
 * package, which controller-runtime and kube-controller-manager use: a Lease held by another
 * candidate is taken only once the same version of it has been seen, unchanged, for its
 * whole `leaseDurationSeconds` by this candidate's own clock (never by comparing
 * `renewTime` with it: clocks differ between nodes); every write carries the
 * resourceVersion read, so of two candidates writing at once one gets 409 Conflict; and a
 * leader that has not renewed within the renew deadline, shorter than the lease duration,
 * stops acting before anyone else may acquire. The API calls are leader-elector.ts.
 */

/** The Lease's spec fields the election reads and writes (`coordination.k8s.io/v1` LeaseSpec). */
export interface LeaseSpec {
  readonly holderIdentity?: string;
  readonly leaseDurationSeconds?: number;
  /** RFC 3339 with microseconds (a MicroTime). */
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions?: number;
}

/** A Lease as read: its spec and resourceVersion. */
export interface LeaseRead {
  readonly spec: LeaseSpec;
  readonly resourceVersion: string;
}

/** The election's timings, in milliseconds; Aviary's defaults are {@link DEFAULT_LEASE_TIMINGS}. */
export interface LeaseTimings {
  /** How long a standby waits, after the Lease last changed, before taking it. */
  readonly leaseDurationMs: number;
  /** How long a leader keeps acting without a successful renewal. */
  readonly renewDeadlineMs: number;
  /** The pause between tries, to acquire or to renew. */
  readonly retryPeriodMs: number;
}

/**
 * 60 s, 40 s, 5 s: four times client-go's 15/10/2. A leader whose renewals queue behind its
 * own writes on a loaded API server must not lose the Lease and exit for it: with client-go's
 * 10 s deadline, bench:operator's 200 Canaries on the loaded test control plane did (its
 * first status writes took 15-26 s there). A Canary checks once per analysis interval (1 min
 * by default), so a failover within a minute costs at most one check.
 */
export const DEFAULT_LEASE_TIMINGS: LeaseTimings = {
  leaseDurationMs: 60_000,
  renewDeadlineMs: 40_000,
  retryPeriodMs: 5_000,
};

/**
 * The timings' problems, as messages naming the flag (empty when they are sound): client-go
 * requires lease duration > renew deadline > retry period × 1.2 (its jitter), so that a
 * leader gives up before a standby may take over.
 */
export function leaseTimingProblems(timings: LeaseTimings): string[] {
  const problems: string[] = [];
  if (timings.leaseDurationMs <= timings.renewDeadlineMs)
    problems.push(
      `--leader-elect-lease-duration (${timings.leaseDurationMs} ms) must be longer than --leader-elect-renew-deadline (${timings.renewDeadlineMs} ms)`,
    );
  if (timings.renewDeadlineMs <= timings.retryPeriodMs * 1.2)
    problems.push(
      `--leader-elect-renew-deadline (${timings.renewDeadlineMs} ms) must be longer than 1.2 × --leader-elect-retry-period (${timings.retryPeriodMs} ms)`,
    );
  if (timings.leaseDurationMs % 1_000 !== 0)
    problems.push(
      `--leader-elect-lease-duration (${timings.leaseDurationMs} ms) must be whole seconds (leaseDurationSeconds)`,
    );
  return problems;
}

/**
 * The candidate's clock: a monotonic reading for every duration it measures (a wall clock
 * set back or forward must not end or prolong a lease, docs/adr/0030-clock-jumps.md) and
 * the wall clock only for the times it writes into the Lease for people to read.
 */
export interface ElectionTime {
  readonly monotonicMs: number;
  readonly wallMs: number;
}

/** The version of the Lease this candidate last saw, and when it first saw it (monotonic). */
export interface LeaseObservation {
  readonly resourceVersion: string;
  readonly atMs: number;
}

/** What to do next: create the Lease, write it (acquire or renew), or wait. */
export type LeaseStep =
  | { readonly kind: 'create'; readonly spec: LeaseSpec }
  | {
      readonly kind: 'update';
      readonly spec: LeaseSpec;
      /** The resourceVersion the write must match (optimistic concurrency). */
      readonly resourceVersion: string;
      /** True when this candidate already held the Lease. */
      readonly renewal: boolean;
    }
  | {
      readonly kind: 'wait';
      readonly holder: string;
      /** When the Lease may be taken if it stays as it is (monotonic). */
      readonly expiresAtMs: number;
    };

/** MicroTime text of a time in milliseconds: RFC 3339 with six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * The next step of the candidate `identity` at `now`, given the Lease as read (undefined:
 * none exists) and its previous observation; returns the step and the observation to keep.
 */
export function leaseStep(
  lease: LeaseRead | undefined,
  observed: LeaseObservation | undefined,
  identity: string,
  now: ElectionTime,
  timings: LeaseTimings,
): { step: LeaseStep; observed: LeaseObservation | undefined } {
  const nowMs = now.monotonicMs;
  const held = (acquireTime: string, transitions: number): LeaseSpec => ({
    holderIdentity: identity,
    leaseDurationSeconds: Math.round(timings.leaseDurationMs / 1_000),
    acquireTime,
    renewTime: microTime(now.wallMs),
    leaseTransitions: transitions,
  });
  if (lease === undefined)
    return { step: { kind: 'create', spec: held(microTime(now.wallMs), 0) }, observed: undefined };
  const seen =
    observed?.resourceVersion === lease.resourceVersion
      ? observed
      : { resourceVersion: lease.resourceVersion, atMs: nowMs };
  const holder = lease.spec.holderIdentity ?? '';
  const transitions = lease.spec.leaseTransitions ?? 0;
  if (holder === identity) {
    const spec = held(lease.spec.acquireTime ?? microTime(now.wallMs), transitions);
    return {
      step: { kind: 'update', spec, resourceVersion: lease.resourceVersion, renewal: true },
      observed: seen,
    };
  }
  // client-go reads the duration from the Lease itself: the holder's, not this candidate's.
  const durationMs = (lease.spec.leaseDurationSeconds ?? timings.leaseDurationMs / 1_000) * 1_000;
  const expiresAtMs = seen.atMs + durationMs;
  if (holder !== '' && nowMs < expiresAtMs)
    return { step: { kind: 'wait', holder, expiresAtMs }, observed: seen };
  const spec = held(microTime(now.wallMs), transitions + 1);
  return {
    step: { kind: 'update', spec, resourceVersion: lease.resourceVersion, renewal: false },
    observed: seen,
  };
}

/**
 * Whether a leader whose last successful renewal was sent at `renewedAtMs` must stop acting
 * at `nowMs` (both monotonic): the renew deadline has passed, and a standby may take the
 * Lease once its duration has.
 */
export function leadershipLost(renewedAtMs: number, nowMs: number, timings: LeaseTimings): boolean {
  return nowMs - renewedAtMs >= timings.renewDeadlineMs;
}

/**
 * The spec that gives the Lease up on a clean stop, as client-go's `ReleaseOnCancel` writes
 * it: no holder and a 1 s duration, so a standby takes it at its next try rather than after
 * a whole lease duration. Undefined when `identity` does not hold it.
 */
export function releasedSpec(lease: LeaseRead, identity: string, wallMs: number): LeaseSpec | undefined {
  if (lease.spec.holderIdentity !== identity) return undefined;
  return {
    holderIdentity: '',
    leaseDurationSeconds: 1,
    acquireTime: microTime(wallMs),
    renewTime: microTime(wallMs),
    leaseTransitions: lease.spec.leaseTransitions ?? 0,
  };
}
