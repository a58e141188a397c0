/**
 * The checks of the replica-fault scenarios (replica-faults.ts, whose header says what must
 * hold and why): the faulted replica's slot after the fault, and the requests of the load
 * against the proxy's per-version counters.
 */
import type { ReplicaView, VersionCounts } from '../replica-observation.js';
import type { RunContext } from '../scenario.js';
import { describeFailures, type SteadyLoad } from '../steady-load.js';

/** Added to the request timeout before the client gives up and counts a hang. */
export const HANG_MARGIN_MS = 10_000;

/** The faults of replica-faults.ts. */
export type ReplicaFault = 'kill' | 'stop';

/** Checks the faulted replica's slot: replaced after a kill, the same process after a stop. */
export function checkSlot(
  fault: ReplicaFault,
  context: RunContext,
  victim: ReplicaView,
  back: ReplicaView | undefined,
): void {
  if (fault === 'kill') {
    context.check(
      'the killed replica is replaced by a new process that is ready and routed',
      back !== undefined && back.pid !== victim.pid && back.restarts > victim.restarts,
      JSON.stringify(back ?? null),
    );
  } else {
    context.check(
      'the resumed replica is routed again, not restarted (no liveness probe)',
      back !== undefined && back.pid === victim.pid && back.restarts === victim.restarts,
      JSON.stringify(back ?? null),
    );
  }
}

/** Checks the load's requests: no hang past `bound`, failures 5xx and counted as the canary's. */
export function checkRequests(
  context: RunContext,
  load: SteadyLoad,
  before: Record<string, VersionCounts>,
  after: Record<string, VersionCounts>,
  bound: number,
): void {
  const failed = load.failures();
  const hung = failed.filter((s) => s.status === 0);
  const maxLatency = Math.max(0, ...load.samples.map((s) => s.latencyMs));
  context.figure('requests', load.samples.length);
  context.figure('failedRequests', failed.length);
  context.figure('hungRequests', hung.length);
  context.figure('maxLatencyMs', maxLatency);
  context.check(
    `no client request waits longer than the request timeout plus ${HANG_MARGIN_MS / 1000} s`,
    hung.length === 0 && maxLatency < bound,
    `${hung.length} aborted by the client at ${bound} ms; max latency ${maxLatency} ms: ${describeFailures(hung)}`,
  );
  context.check(
    'every failed request is a 5xx answered by the proxy',
    failed.every((s) => s.status >= 500),
    describeFailures(failed),
  );
  const canaryErrors = (after.canary?.serverErrors ?? 0) - (before.canary?.serverErrors ?? 0);
  const primaryErrors = (after.primary?.serverErrors ?? 0) - (before.primary?.serverErrors ?? 0);
  context.figure('canaryServerErrors', canaryErrors);
  context.check(
    "every failed request is counted in the canary's metrics, none in the primary's",
    canaryErrors >= failed.length && primaryErrors === 0,
    `clients saw ${failed.length} failures; /metrics: canary 5xx +${canaryErrors}, primary 5xx +${primaryErrors}`,
  );
}
