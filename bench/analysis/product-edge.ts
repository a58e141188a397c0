/**
 * The edge the product's controller logic runs against in the bench: the router's
 * per-version traffic as a `TrafficSource` (what `JudgeEvaluator` reads in the product from
 * the proxy's one-second slices), filled from the simulated seconds, and a target whose
 * versions are ready as soon as they are asked for (as `InMemoryTarget` in the controller
 * bench). Only what the tick reads is implemented; the rest is never called by it.
 */
import type { TrafficCounts, TrafficSource } from '../../src/analysis/traffic-source.js';
import type { Target, VersionRole, VersionStatus } from '../../src/target/target.js';
import type { RolloutAction } from '../../src/rollout/step/actions.js';
import { DenseLatency, type StepObservation, type VersionStep } from './traffic.js';

/** How many seconds the windows keep: more than the judge's look-back of one interval. */
const KEPT_SECONDS = 1024;

interface SecondSide {
  requests: number;
  errors: number;
  /** Flat `[index, count, index, count, …]` of the second's latency buckets. */
  latency: number[];
}

interface Second {
  atMs: number;
  primary: SecondSide;
  canary: SecondSide;
}

const copySide = (side: VersionStep): SecondSide => ({
  requests: side.requests,
  errors: side.errors,
  latency: side.latency.buckets().flat(),
});

/** One-second traffic slices per version, read as the judge reads the router's windows. */
export class SimulatedTrafficWindows {
  private readonly seconds: (Second | undefined)[] = new Array<Second | undefined>(KEPT_SECONDS);
  /** Scratch sketches handed to the judge; it reads them before asking for the next snapshot. */
  private readonly scratch = { primary: new DenseLatency(), canary: new DenseLatency() };

  /** Records the second starting at `atMs` (a whole second). */
  record(atMs: number, step: StepObservation): void {
    const second = { atMs, primary: copySide(step.primary), canary: copySide(step.canary) };
    this.seconds[(atMs / 1000) % KEPT_SECONDS] = second;
  }

  /** Sums [fromMs, toMs) of one version; every second in it must have been recorded. */
  snapshot(version: 'primary' | 'canary', fromMs: number, toMs: number): TrafficCounts {
    const latency = this.scratch[version];
    latency.reset();
    let requests = 0;
    let errors5xx = 0;
    for (let at = fromMs; at < toMs; at += 1000) {
      const second = this.seconds[(at / 1000) % KEPT_SECONDS];
      if (second === undefined || second.atMs !== at) {
        throw new Error(`bench traffic: second ${at} was not simulated (or is older than ${KEPT_SECONDS} s)`);
      }
      const side = second[version];
      requests += side.requests;
      errors5xx += side.errors;
      for (let i = 0; i < side.latency.length; i += 2) latency.add(side.latency[i]!, side.latency[i + 1]);
    }
    return { requests, errors5xx, latency };
  }

  /** The judge's `TrafficSource` over these windows (one app). */
  readonly source: TrafficSource = (_app, version) => ({
    snapshot: (fromMs, toMs) => {
      if (version === 'baseline') throw new Error('bench traffic: no fresh baseline is simulated');
      return this.snapshot(version, fromMs, toMs);
    },
  });
}

function unused(method: string): Promise<never> {
  return Promise.reject(new Error(`bench target: ${method} is not part of a tick`));
}

/**
 * A target whose roles run what the state machine's actions last asked for, every replica
 * ready at once; the tick reads it through `status`.
 */
export class InstantTarget implements Target {
  readonly kind = 'bench';
  private readonly roles: Record<VersionRole, { revision: string; replicas: number } | undefined> = {
    primary: undefined,
    canary: undefined,
    baseline: undefined,
  };

  identify(): never {
    throw new Error('bench target: identify is not part of a tick');
  }

  withReplicas<S>(spec: S): S {
    return spec;
  }

  /** Applies the process actions of one `step`. */
  apply(action: RolloutAction): void {
    if (action.kind === 'start-canary')
      this.roles.canary = { revision: action.revision, replicas: action.replicas };
    if (action.kind === 'start-baseline')
      this.roles.baseline = { revision: action.revision, replicas: action.replicas };
    if (action.kind === 'promote-spec')
      this.roles.primary = { revision: action.revision, replicas: action.replicas };
    if (action.kind === 'stop') this.roles[action.role] = undefined;
    const role = action.kind === 'scale' ? this.roles[action.role] : undefined;
    if (action.kind === 'scale' && role !== undefined)
      this.roles[action.role] = { ...role, replicas: action.replicas };
  }

  status(app: string, role: VersionRole): Promise<VersionStatus | undefined> {
    const running = this.roles[role];
    if (running === undefined) return Promise.resolve(undefined);
    return Promise.resolve({
      app,
      role,
      revision: running.revision,
      desiredReplicas: running.replicas,
      readyReplicas: running.replicas,
      readyPercent: 100,
      endpoints: [],
      restarts: 0,
      lastError: null,
      replicas: [],
    });
  }

  ensureVersion(): Promise<never> {
    return unused('ensureVersion');
  }
  scale(): Promise<never> {
    return unused('scale');
  }
  promote(): Promise<never> {
    return unused('promote');
  }
  stop(): Promise<never> {
    return unused('stop');
  }
  logs(): Promise<never> {
    return unused('logs');
  }
  recover(): Promise<never> {
    return unused('recover');
  }
  close(): Promise<never> {
    return unused('close');
  }
}
