/**
 * One version of an app served at fixed addresses: a probe loop per address and the state it
 * reports. Replacing the revision keeps the previous addresses as endpoints until every new
 * one is ready, as the process target's surge rollout keeps old replicas serving.
 */
import type { EndpointsSpec } from '../../config/app-endpoints.js';
import {
  DEFAULT_READINESS_PLAN,
  httpProbePlan,
  ProbeTracker,
  runProbeLoop,
  type ProbePlan,
} from '../probe.js';
import type { LogLine, ReplicaStatus } from '../target.js';

/** Log lines kept per version. */
const LOG_LINES = 200;

/** `host:port` split for dialling; IPv6 hosts lose their brackets. */
export function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(colon + 1)) };
}

/** One address under probe. */
class ProbedAddress {
  readonly tracker: ProbeTracker;
  lastFailure: string | null = null;

  constructor(
    readonly replica: number,
    readonly address: string,
    readonly revision: string,
    plan: ProbePlan,
  ) {
    this.tracker = new ProbeTracker(plan, false);
  }
}

/** The probed addresses of one app role, across at most two revisions while one replaces the other. */
export class EndpointsVersion {
  #current: ProbedAddress[] = [];
  #previous: ProbedAddress[] = [];
  #abort = new AbortController();
  #previousAbort: AbortController | undefined;
  #plan: ProbePlan;
  #lastError: string | null = null;
  readonly #log: LogLine[] = [];

  constructor(
    public spec: EndpointsSpec,
    public revision: string,
    /** Whether the addresses are in service; false after scaling to zero. */
    public active = true,
  ) {
    this.#plan = planOf(spec);
    this.#probe();
  }

  /** Same revision, new probe settings: applied in place from the next round. */
  updateProbes(spec: EndpointsSpec): void {
    this.spec = spec;
    this.#plan = planOf(spec);
  }

  /** A new revision: probe its addresses; the old ones serve until all new ones are ready. */
  replace(spec: EndpointsSpec, revision: string): void {
    this.#previousAbort?.abort();
    // The old addresses keep their probe loops (their signal moves to #previousAbort), so one
    // that fails leaves traffic even while the new revision is not ready yet.
    this.#previous = this.#current.filter((a) => a.tracker.healthy);
    this.#previousAbort = this.#abort;
    this.#abort = new AbortController();
    this.spec = spec;
    this.revision = revision;
    this.#plan = planOf(spec);
    this.#lastError = null;
    this.#probe();
  }

  /** Takes the addresses out of (0) or back into service. */
  setActive(active: boolean): void {
    if (active === this.active) return;
    this.active = active;
    if (active) {
      this.#abort = new AbortController();
      this.#probe();
    } else {
      this.#abort.abort();
      this.#previousAbort?.abort();
      this.#previous = [];
      this.#current = [];
    }
  }

  /** Stops every probe. */
  stop(): void {
    this.#abort.abort();
    this.#previousAbort?.abort();
  }

  get lastError(): string | null {
    return this.#lastError;
  }

  /** Ready addresses of the current revision, then those of the previous one still serving. */
  endpoints(): string[] {
    const ready = this.#current.filter((a) => a.tracker.healthy).map((a) => a.address);
    if (ready.length < this.#current.length) {
      for (const old of this.#previous)
        if (old.tracker.healthy && !ready.includes(old.address)) ready.push(old.address);
    }
    return ready;
  }

  readyReplicas(): number {
    return this.#current.filter((a) => a.tracker.healthy).length;
  }

  replicas(): ReplicaStatus[] {
    const serving = this.readyReplicas() < this.#current.length ? this.#previous : [];
    return [...this.#current, ...serving].map((a) => ({
      address: a.address,
      replica: a.replica,
      revision: a.revision,
      phase: a.tracker.healthy ? 'running' : 'starting',
      endpoint: a.address,
      ready: a.tracker.healthy,
      restarts: 0,
      adopted: false,
    }));
  }

  logs(tail?: number): LogLine[] {
    if (tail === undefined) return [...this.#log];
    return tail <= 0 ? [] : this.#log.slice(-tail);
  }

  #note(probed: ProbedAddress, text: string): void {
    this.#log.push({
      at: Date.now(),
      replica: probed.replica,
      revision: probed.revision,
      stream: 'aviary',
      text,
    });
    if (this.#log.length > LOG_LINES) this.#log.splice(0, this.#log.length - LOG_LINES);
  }

  #probe(): void {
    const signal = this.#abort.signal;
    this.#current = this.spec.addresses.map(
      (address, i) => new ProbedAddress(i, address, this.revision, this.#plan),
    );
    for (const probed of this.#current) {
      const { host, port } = splitAddress(probed.address);
      void runProbeLoop(
        () => port,
        () => (signal.aborted ? undefined : this.#plan),
        signal,
        (ok) => {
          if (probed.tracker.record(ok)) {
            this.#note(probed, `${probed.address} ${probed.tracker.healthy ? 'ready' : 'not ready'}`);
            if (this.readyReplicas() === this.#current.length) this.#retirePrevious();
          }
          if (!ok && probed.lastFailure === null) {
            probed.lastFailure = `readiness probe of ${probed.address} failed`;
            if (probed.revision === this.revision) this.#lastError = probed.lastFailure;
          }
          if (ok) probed.lastFailure = null;
          return true;
        },
        host,
      );
    }
  }

  #retirePrevious(): void {
    this.#previousAbort?.abort();
    this.#previousAbort = undefined;
    this.#previous = [];
  }
}

function planOf(spec: EndpointsSpec): ProbePlan {
  return spec.readinessProbe ? httpProbePlan(spec.readinessProbe) : DEFAULT_READINESS_PLAN;
}
