/**
 * The API calls of leader election (docs/adr/0032-operator-leader-election.md): reads the
 * Lease, asks leader-election.ts what to do, and creates or replaces it with the
 * resourceVersion it read, so a write over someone else's newer one is refused (409). A
 * candidate waits in {@link LeaderElector.acquire}; the leader renews every retry period and,
 * once it has gone a renew deadline without a renewal (the API server unreachable, the Lease
 * taken), tells `onLost` at once: the caller must stop acting then (`aviary operator` exits
 * non-zero, as controller-runtime does, and its Deployment starts it again as a candidate).
 */
import { performance } from 'node:perf_hooks';
import {
  ApiException,
  KubernetesObjectApi,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { AviaryError } from '../errors.js';
import {
  leaseStep,
  leadershipLost,
  releasedSpec,
  type ElectionTime,
  type LeaseObservation,
  type LeaseRead,
  type LeaseSpec,
  type LeaseTimings,
} from './leader-election.js';

/** Options of a {@link LeaderElector}. */
export interface LeaderElectorOptions {
  readonly config: KubeConfig;
  /** Where the Lease lives: the operator's own namespace. */
  readonly namespace: string;
  /** The Lease's name; every candidate of one operator uses the same. */
  readonly name: string;
  /** This candidate, unique among them (client-go: hostname and a random UUID). */
  readonly identity: string;
  readonly timings: LeaseTimings;
  /** Told of each change: waiting, leading, a failed renewal. */
  readonly log?: (line: string) => void;
}

interface LeaseObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** client-go's jitter: a pause of `ms` to 1.2 × `ms`, so candidates do not try in lockstep. */
const jittered = (ms: number): number => ms * (1 + Math.random() * 0.2);

/** Rejects when `work` has not settled within `ms`: a hung call must not hold the loop. */
function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** A candidate for one Lease; see the module comment. */
export class LeaderElector {
  readonly #options: LeaderElectorOptions;
  readonly #objects: KubernetesObjectApi;
  #observed: LeaseObservation | undefined;
  #renewedAtMs = 0;
  #renewing: AbortController | undefined;
  #watchdog: NodeJS.Timeout | undefined;

  constructor(options: LeaderElectorOptions) {
    this.#options = options;
    this.#objects = KubernetesObjectApi.makeApiClient(options.config);
  }

  /** Resolves once this candidate holds the Lease; resolves false when `signal` aborts first. */
  async acquire(signal: AbortSignal): Promise<boolean> {
    const { timings, log, identity } = this.#options;
    let lastHolder: string | undefined;
    while (!signal.aborted) {
      const outcome = await this.#tryOnce().catch((error: unknown) => ({ error }));
      if (outcome === 'held') {
        log?.(`leading as ${identity} (Lease ${this.#where()})`);
        return true;
      }
      if ('holder' in outcome && outcome.holder !== lastHolder) {
        lastHolder = outcome.holder;
        log?.(`standby as ${identity}: Lease ${this.#where()} held by ${outcome.holder}`);
      }
      await sleep(jittered(timings.retryPeriodMs), signal);
    }
    return false;
  }

  /**
   * Renews the Lease every retry period from now on, and calls `onLost` once when a renew
   * deadline passes without a renewal or another candidate holds the Lease. Call after
   * {@link acquire} resolved true.
   */
  keepRenewing(onLost: (reason: string) => void): void {
    const { timings, log } = this.#options;
    const renewing = new AbortController();
    this.#renewing = renewing;
    let lost = false;
    const lose = (reason: string): void => {
      if (lost || renewing.signal.aborted) return;
      lost = true;
      renewing.abort();
      clearTimeout(this.#watchdog);
      onLost(reason);
    };
    const arm = (): void => {
      clearTimeout(this.#watchdog);
      const left = this.#renewedAtMs + timings.renewDeadlineMs - performance.now();
      this.#watchdog = setTimeout(
        () => {
          if (leadershipLost(this.#renewedAtMs, performance.now(), timings))
            lose(`no renewal within the renew deadline (${timings.renewDeadlineMs} ms)`);
          else arm();
        },
        Math.max(0, left),
      );
    };
    arm();
    void (async () => {
      while (!renewing.signal.aborted) {
        await sleep(timings.retryPeriodMs, renewing.signal);
        if (renewing.signal.aborted) return;
        const outcome = await this.#tryOnce().catch((error: unknown) => ({ error }));
        if (outcome === 'held') arm();
        else if ('holder' in outcome) lose(`the Lease is held by ${outcome.holder}`);
        else log?.(`renewing the Lease failed: ${String((outcome.error as Error).message)}`);
      }
    })();
  }

  /**
   * Throws unless this candidate is leading and within its renew deadline now: checked
   * before each write, so a process resumed after a pause (SIGSTOP, a frozen VM) writes
   * nothing even if one of its timers runs before the renew loop's.
   */
  assertLeading(): void {
    const { timings, namespace, name } = this.#options;
    if (
      this.#renewing === undefined ||
      this.#renewing.signal.aborted ||
      leadershipLost(this.#renewedAtMs, performance.now(), timings)
    )
      throw new AviaryError(
        'AVIARY_KUBE_API',
        `not writing: this operator does not hold the Lease ${namespace}/${name} now (no renewal within ${timings.renewDeadlineMs} ms)`,
      );
  }

  /** Stops renewing and gives the Lease up, if still held, so a standby takes it at once. */
  async release(): Promise<void> {
    this.#renewing?.abort();
    clearTimeout(this.#watchdog);
    const lease = await this.#read().catch(() => undefined);
    if (lease === undefined) return;
    const spec = releasedSpec(lease, this.#options.identity, Date.now());
    if (spec !== undefined) await this.#write('replace', spec, lease.resourceVersion).catch(() => undefined);
  }

  /** One read and, when the step says so, one write; 'held' when this candidate holds the Lease after it. */
  async #tryOnce(): Promise<'held' | { holder: string } | { error: unknown }> {
    const lease = await this.#read();
    const now: ElectionTime = { monotonicMs: performance.now(), wallMs: Date.now() };
    const { step, observed } = leaseStep(
      lease,
      this.#observed,
      this.#options.identity,
      now,
      this.#options.timings,
    );
    this.#observed = observed;
    if (step.kind === 'wait') return { holder: step.holder };
    try {
      await this.#write(
        step.kind === 'create' ? 'create' : 'replace',
        step.spec,
        step.kind === 'update' ? step.resourceVersion : undefined,
      );
    } catch (error) {
      // Another candidate wrote first (409), or created it meanwhile: read again next time.
      return { error };
    }
    this.#renewedAtMs = now.monotonicMs;
    return 'held';
  }

  async #read(): Promise<LeaseRead | undefined> {
    const { namespace, name, timings } = this.#options;
    try {
      const header = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace } };
      const lease: KubernetesObject & { spec?: LeaseSpec } = await within(
        timings.renewDeadlineMs,
        this.#objects.read(header),
      );
      return { spec: lease.spec ?? {}, resourceVersion: lease.metadata?.resourceVersion ?? '' };
    } catch (error) {
      if (error instanceof ApiException && (error as ApiException<unknown>).code === 404) return undefined;
      throw error;
    }
  }

  async #write(verb: 'create' | 'replace', spec: LeaseSpec, resourceVersion?: string): Promise<void> {
    const { namespace, name, timings } = this.#options;
    const lease: LeaseObject = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name, namespace, ...(resourceVersion !== undefined ? { resourceVersion } : {}) },
      spec,
    };
    await within(
      timings.renewDeadlineMs,
      verb === 'create' ? this.#objects.create(lease) : this.#objects.replace(lease),
    );
  }

  #where(): string {
    return `${this.#options.namespace}/${this.#options.name}`;
  }
}
