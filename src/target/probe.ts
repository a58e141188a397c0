/**
 * Readiness and liveness probes of a replica (a local process, or a fixed address for the
 * endpoints target), with Kubernetes semantics
 * (https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/):
 * HTTP GET succeeds on a status 200–399; the state flips only after `successThreshold`
 * consecutive successes or `failureThreshold` consecutive failures, so one slow answer does
 * not pull a replica out of traffic.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProbeSpec } from '../config/app-process.js';

/** How to probe: HTTP GET on a path, or a bare TCP connect when the spec has no readiness probe. */
export type ProbeCheck = { readonly kind: 'http'; readonly path: string } | { readonly kind: 'tcp' };

/** A probe's check plus its timings. */
export interface ProbePlan {
  readonly check: ProbeCheck;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly successThreshold: number;
  readonly failureThreshold: number;
  readonly initialDelayMs: number;
}

/**
 * Readiness used when a spec has none: the replica is ready once its port accepts a TCP
 * connection (Kubernetes' `tcpSocket` probe), checked every 250 ms.
 */
export const DEFAULT_READINESS_PLAN: ProbePlan = {
  check: { kind: 'tcp' },
  intervalMs: 250,
  timeoutMs: 1000,
  successThreshold: 1,
  failureThreshold: 3,
  initialDelayMs: 0,
};

/** The plan for a configured HTTP probe. */
export function httpProbePlan(spec: ProbeSpec): ProbePlan {
  return {
    check: { kind: 'http', path: spec.path },
    intervalMs: spec.intervalMs,
    timeoutMs: spec.timeoutMs,
    successThreshold: Math.max(1, spec.successThreshold),
    failureThreshold: Math.max(1, spec.failureThreshold),
    initialDelayMs: spec.initialDelayMs,
  };
}

/** Consecutive-result counter that turns probe outcomes into a healthy/unhealthy state. */
export class ProbeTracker {
  #healthy: boolean;
  #successes = 0;
  #failures = 0;

  /** `healthy` is the state before any probe: false for readiness, true for liveness. */
  constructor(
    private readonly thresholds: Pick<ProbePlan, 'successThreshold' | 'failureThreshold'>,
    healthy: boolean,
  ) {
    this.#healthy = healthy;
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  /** Records one outcome; returns true when the state flipped. */
  record(success: boolean): boolean {
    if (success) {
      this.#successes += 1;
      this.#failures = 0;
      if (!this.#healthy && this.#successes >= this.thresholds.successThreshold) return this.#flip();
    } else {
      this.#failures += 1;
      this.#successes = 0;
      if (this.#healthy && this.#failures >= this.thresholds.failureThreshold) return this.#flip();
    }
    return false;
  }

  #flip(): true {
    this.#healthy = !this.#healthy;
    this.#successes = 0;
    this.#failures = 0;
    return true;
  }
}

/**
 * Runs one probe against `host:port` (a local replica's `127.0.0.1` by default). Resolves
 * true on success, false on any failure; never rejects. Each HTTP probe uses a fresh
 * connection, as the kubelet does.
 */
export function probeOnce(
  port: number,
  plan: ProbePlan,
  signal: AbortSignal,
  host = '127.0.0.1',
): Promise<boolean> {
  const deadline = AbortSignal.any([signal, AbortSignal.timeout(plan.timeoutMs)]);
  return plan.check.kind === 'http'
    ? httpGet(host, port, plan.check.path, deadline)
    : tcpConnect(host, port, deadline);
}

function httpGet(host: string, port: number, path: string, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      {
        host,
        port,
        path,
        method: 'GET',
        agent: false,
        signal,
        headers: { 'user-agent': 'aviary-probe' },
      },
      (res) => {
        const ok = res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 400;
        res.on('error', () => resolve(false));
        res.on('end', () => resolve(ok));
        res.resume();
      },
    );
    req.on('error', () => resolve(false));
    req.end();
  });
}

function tcpConnect(host: string, port: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const socket = connect({ host, port });
    const finish = (ok: boolean): void => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(ok);
    };
    const onAbort = (): void => finish(false);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/**
 * Probes `host:port` every `intervalMs` until `signal` aborts or `onResult` returns false. The
 * plan is re-read each round, so probes updated in place apply at once; a null port (the
 * process is gone) counts as a failure.
 */
export async function runProbeLoop(
  port: () => number | null,
  plan: () => ProbePlan | undefined,
  signal: AbortSignal,
  onResult: (ok: boolean, plan: ProbePlan) => boolean,
  host = '127.0.0.1',
): Promise<void> {
  if (!(await pause(plan()?.initialDelayMs ?? 0, signal))) return;
  for (let current = plan(); current !== undefined; current = plan()) {
    const target = port();
    const ok = target !== null && (await probeOnce(target, current, signal, host));
    if (signal.aborted || !onResult(ok, current)) return;
    if (!(await pause(current.intervalMs, signal))) return;
  }
}

/** Waits `ms`; resolves false instead when `signal` aborts first. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
