/**
 * The rollout state of each Canary kept where Kubernetes users look for it: the Canary's
 * `status` subresource (docs/adr/0019-kubernetes-operator.md). The controller's document goes
 * into `status.aviary` whole, so a restarted operator resumes from it; the fields Flagger users
 * read (`phase`, `canaryWeight`, `failedChecks`, `iterations`, `lastAppliedSpec`,
 * `lastPromotedSpec`, `lastTransitionTime`, the `Promoted` condition, a short `judge` summary)
 * are written beside it for `kubectl get canaries`. Each new rollout event is also a Kubernetes
 * `Event` on the Canary, but for a wait for ready pods that ends within one check. The
 * controller saves at every tick; a document equal to the last one
 * written writes no status (its new events, if any, are Kubernetes Events at once and join
 * the status with the next change), so a settled or held Canary costs no status write.
 */
import type { RolloutStateStore, StoredState } from '../rollout/state/rollout-state-store.js';
import type { PersistedRollout } from '../rollout/controller/app-record.js';
import type { RolloutEventRecord } from '../rollout/controller/action-executor.js';
import type { RolloutStatus } from '../rollout/step/rollout-status.js';
import type { KubeApi } from '../kubernetes/kube-api.js';
import { CANARY_API_VERSION, type CanaryObject } from './canary-app.js';

/** Events kept in `status.aviary.events` for a restarted operator (Kubernetes keeps its own Events). */
const KEPT_EVENTS = 50;
/** Kubernetes refuses Event messages past 1 KiB. */
const EVENT_MESSAGE_LIMIT = 1024;

/** Options of a {@link CanaryStatusStore}. */
export interface CanaryStatusStoreOptions {
  readonly api: KubeApi;
  readonly namespace: string;
  /** The Canary object of an app, for the uid of its Events (from the operator's cache). */
  readonly canaryOf: (app: string) => CanaryObject | undefined;
  /** Its Events' `reportingInstance`: the operator's leader-election identity; default `aviary-operator`. */
  readonly instance?: string;
}

interface Stored {
  readonly state: PersistedRollout;
  readonly events: readonly RolloutEventRecord[];
}

/** `status.conditions[type=Promoted]`, as Flagger sets it. */
function promotedCondition(status: RolloutStatus) {
  const promoted = status.phase === 'Succeeded' || status.phase === 'Initialized';
  const at = new Date(status.lastTransitionTime).toISOString();
  return {
    type: 'Promoted',
    status: promoted ? 'True' : status.phase === 'Failed' ? 'False' : 'Unknown',
    reason: status.phase,
    message: promoted
      ? 'the primary runs the last analysed revision'
      : status.phase === 'Failed'
        ? 'the canary was rolled back'
        : `rollout ${status.phase.toLowerCase()}`,
    lastUpdateTime: at,
    lastTransitionTime: at,
  };
}

/** `status.conditions[type=Ready]` of a Canary the controller runs (one it cannot read gets False from the operator). */
function readyCondition(status: RolloutStatus) {
  const at = new Date(status.lastTransitionTime).toISOString();
  return {
    type: 'Ready',
    status: 'True',
    reason: 'Ready',
    message: 'the operator runs this Canary',
    lastUpdateTime: at,
    lastTransitionTime: at,
  };
}

/** A short summary of the judge's last verdict, from the checks behind the status. */
function judgeSummary(state: PersistedRollout): Record<string, unknown> | undefined {
  const judge = state.lastChecks?.metrics.find((m) => m.name === 'judge');
  if (judge === undefined) return undefined;
  const evidence = judge.evidence as { decision?: string; canaryRequests?: number } | undefined;
  return {
    decision: evidence?.decision ?? (judge.passed ? 'pass' : 'hold'),
    canaryRequests: evidence?.canaryRequests ?? judge.sampleSize ?? null,
    summary: (judge.detail ?? judge.error ?? '').slice(0, 512),
  };
}

/** The `status` a Flagger user reads, plus Aviary's own document. */
export function canaryStatusOf(
  state: PersistedRollout,
  events: readonly RolloutEventRecord[],
): Record<string, unknown> {
  const status = state.status;
  const judge = judgeSummary(state);
  return {
    ...(status !== undefined
      ? {
          phase: status.phase,
          canaryWeight: status.canaryWeight,
          failedChecks: status.failedChecks,
          iterations: status.iterations,
          lastAppliedSpec: status.lastAppliedSpec,
          lastPromotedSpec: status.lastPromotedSpec,
          lastTransitionTime: new Date(status.lastTransitionTime).toISOString(),
          conditions: [promotedCondition(status), readyCondition(status)],
        }
      : {}),
    ...(judge !== undefined ? { judge } : {}),
    aviary: { state, events: events.slice(-KEPT_EVENTS) },
  };
}

/**
 * `events` less each one that repeats the one before it (same reason and message: "Halt
 * advancement: canary 0/1 ready" at every interval while pods start). The first of a run is
 * written as an Event and kept in the status; its repeats would only cost two writes each
 * (bench:operator: 1.3 per Canary per step with 200 Canaries), and the controller's own
 * history (`aviary get events`) still has them all.
 */
function withoutRepeats(
  before: RolloutEventRecord | undefined,
  events: readonly RolloutEventRecord[],
): RolloutEventRecord[] {
  const kept: RolloutEventRecord[] = [];
  let previous = before;
  for (const event of events) {
    if (previous === undefined || previous.reason !== event.reason || previous.message !== event.message)
      kept.push(event);
    previous = event;
  }
  return kept;
}

/**
 * `state` as JSON without `status.nextCheckAt`, for telling whether a save changes anything
 * worth a write. A tick that only holds (the canary not ready yet, a gate still closed) moves
 * the next check one interval on and changes nothing else; writing that would cost a status
 * patch per Canary per interval for as long as the hold lasts (bench:operator: 2.4 patches per
 * Canary per step with 200 Canaries, against 1.2 with 60). The next write carries the latest
 * value, and a restarted operator that reads an older one only checks sooner, as it already
 * does for the judge's looks.
 */
function durableJson(state: PersistedRollout): string {
  if (state.status === undefined) return JSON.stringify(state);
  return JSON.stringify({ ...state, status: { ...state.status, nextCheckAt: 0 } });
}

/** The hold the state machine records when the canary or the primary is not ready at a check. */
const WAIT_REASON = 'NotReady';

/** Where an app's wait for ready pods stands: its first hold not yet written, or written. */
type Wait = { readonly pending: RolloutEventRecord } | { readonly reported: true };

/**
 * Which of a save's events become Kubernetes Events. A wait for ready pods (`NotReady`) is
 * one only once it outlasts a check: its first hold is held back, written when the next check
 * still waits, dropped when a transition comes first. Every rollout waits for its canary to
 * start and its promoted primary to roll out; as Events those short waits were noise on
 * every Canary (an alert on Warning Events fired at each rollout) and two writes per rollout
 * (bench:operator, 200 Canaries). The status and `aviary get events` keep every hold.
 */
function eventsToWrite(
  wait: Wait | undefined,
  all: readonly RolloutEventRecord[],
  fresh: ReadonlySet<RolloutEventRecord>,
): { write: RolloutEventRecord[]; wait: Wait | undefined } {
  const write: RolloutEventRecord[] = [];
  let now = wait;
  for (const event of all) {
    const isNew = fresh.has(event);
    if (event.reason !== WAIT_REASON) {
      now = undefined;
      if (isNew) write.push(event);
    } else if (now === undefined) {
      if (isNew) now = { pending: event };
    } else {
      if ('pending' in now) write.push(now.pending);
      if (isNew && !('pending' in now && now.pending === event)) write.push(event);
      now = { reported: true };
    }
  }
  return { write, wait: now };
}

/** {@link RolloutStateStore} on Canary status subresources. */
export class CanaryStatusStore implements RolloutStateStore<PersistedRollout, RolloutEventRecord> {
  readonly #options: CanaryStatusStoreOptions;
  /** What was last written per app, to skip writes that change nothing. */
  readonly #written = new Map<string, { json: string; events: readonly RolloutEventRecord[] }>();
  readonly #pending = new Set<Promise<unknown>>();
  /** Each app's current wait for ready pods ({@link eventsToWrite}). */
  readonly #waits = new Map<string, Wait>();

  constructor(options: CanaryStatusStoreOptions) {
    this.#options = options;
  }

  async loadAll(): Promise<Map<string, StoredState<PersistedRollout, RolloutEventRecord>>> {
    const { api, namespace } = this.#options;
    const canaries = await api.list<CanaryObject>(CANARY_API_VERSION, 'Canary', namespace);
    const loaded = new Map<string, StoredState<PersistedRollout, RolloutEventRecord>>();
    for (const canary of canaries) {
      const stored = (canary.status as { aviary?: Stored } | undefined)?.aviary;
      const name = canary.metadata?.name;
      if (name === undefined || stored?.state === undefined) continue;
      loaded.set(name, { state: stored.state, events: stored.events ?? [] });
      // What this store wrote stands: the API server's copy lacks the nulls its schema prunes,
      // so taking it instead would make the next save of every Canary look like a change.
      if (!this.#written.has(name))
        this.#written.set(name, { json: durableJson(stored.state), events: stored.events ?? [] });
    }
    return loaded;
  }

  save(app: string, state: PersistedRollout, events: readonly RolloutEventRecord[] = []): Promise<void> {
    const work = this.#save(app, state, events);
    this.#pending.add(work);
    return work.finally(() => this.#pending.delete(work));
  }

  async #save(app: string, state: PersistedRollout, all: readonly RolloutEventRecord[]): Promise<void> {
    const json = durableJson(state);
    const last = this.#written.get(app);
    const events = withoutRepeats(last?.events.at(-1), all);
    const kept = [...(last?.events ?? []), ...events].slice(-KEPT_EVENTS);
    // A document equal to the last one written (a hold: "Halt advancement: canary 0/1 ready")
    // costs no status patch; its new events are Kubernetes Events now, and go into
    // `status.aviary.events` with the next document that changes.
    if (last === undefined || last.json !== json) {
      const { api, namespace } = this.#options;
      await api.patchStatus(
        `/apis/${CANARY_API_VERSION}/namespaces/${namespace}/canaries/${app}`,
        { apiVersion: CANARY_API_VERSION, kind: 'Canary', namespace, name: app },
        canaryStatusOf(state, kept),
      );
    }
    this.#written.set(app, { json, events: kept });
    const { write, wait } = eventsToWrite(this.#waits.get(app), all, new Set(events));
    if (wait === undefined) this.#waits.delete(app);
    else this.#waits.set(app, wait);
    for (const event of write) await this.recordEvent(app, event);
  }

  /** One Kubernetes Event on the Canary; a Canary gone meanwhile has nothing to attach it to. */
  async recordEvent(app: string, event: RolloutEventRecord): Promise<void> {
    const canary = this.#options.canaryOf(app);
    if (canary?.metadata?.uid === undefined) return;
    const { namespace } = this.#options;
    const at = new Date(event.at).toISOString();
    await this.#options.api.apply({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${app}.${event.at.toString(16)}.${event.reason.toLowerCase()}`, namespace },
      involvedObject: {
        apiVersion: CANARY_API_VERSION,
        kind: 'Canary',
        name: app,
        namespace,
        uid: canary.metadata.uid,
      },
      reason: event.reason,
      message: event.message.slice(0, EVENT_MESSAGE_LIMIT),
      type: event.severity === 'warning' ? 'Warning' : 'Normal',
      firstTimestamp: at,
      lastTimestamp: at,
      count: 1,
      source: { component: 'aviary-operator' },
      reportingComponent: 'aviary.dev/operator',
      reportingInstance: this.#options.instance ?? 'aviary-operator',
    });
  }

  /** A Warning Event on the Canary `app`, with its rollout's phase and weight when it runs. */
  recordWarning(
    app: string,
    reason: string,
    message: string,
    statusOf: () => Pick<RolloutStatus, 'phase' | 'canaryWeight'> | undefined,
  ): Promise<void> {
    const status = statusOf();
    return this.recordEvent(app, {
      at: Date.now(),
      app,
      reason,
      message,
      severity: 'warning',
      phase: status?.phase ?? 'Unknown',
      canaryWeight: status?.canaryWeight ?? 0,
    });
  }

  /** Writes the app's next document even if it equals the last one (its status was changed by someone else). */
  rewrite(app: string): void {
    this.#written.delete(app);
  }

  /** Forgets the app; its status goes with its Canary. */
  remove(app: string): Promise<void> {
    this.#written.delete(app);
    this.#waits.delete(app);
    return Promise.resolve();
  }

  async settled(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
  }
}
