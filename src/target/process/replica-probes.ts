/**
 * The probes of one run of a replica (Kubernetes semantics, see `probe.ts`): readiness says
 * whether it gets traffic, liveness whether it is restarted. Both stop when the run's signal
 * aborts; liveness also stops at its first verdict of failure, since the restart ends the run.
 */
import { ProbeTracker, runProbeLoop, type ProbePlan } from '../probe.js';

/** What the probes of a run read and report. Plans are re-read each round, so updates apply at once. */
export interface ReplicaProbes {
  /** The port to probe; null once the run is over, which counts as a failure. */
  readonly port: () => number | null;
  readonly readinessPlan: () => ProbePlan;
  /** Undefined when the spec has no liveness probe. */
  readonly livenessPlan: () => ProbePlan | undefined;
  /** One readiness outcome. */
  readonly readinessResult: (ok: boolean) => void;
  /** Liveness failed `plan.failureThreshold` times in a row. */
  readonly livenessFailed: (plan: ProbePlan) => void;
}

/** Starts the readiness and liveness loops of a run; both end when `signal` aborts. */
export function startReplicaProbes(probes: ReplicaProbes, signal: AbortSignal): void {
  void runProbeLoop(probes.port, probes.readinessPlan, signal, (ok) => {
    probes.readinessResult(ok);
    return true;
  });
  const liveness = new ProbeTracker(probes.livenessPlan() ?? probes.readinessPlan(), true);
  void runProbeLoop(probes.port, probes.livenessPlan, signal, (ok, plan) => {
    if (!liveness.record(ok)) return true;
    probes.livenessFailed(plan);
    return false;
  });
}
