/**
 * The run queue: starts queued runs in creation order, one at a time per source (first in,
 * first out), at most `concurrency` at once overall (default 1: builds run one at a time).
 * A newer release run of a source makes its older queued release runs `skipped`, since only
 * the latest deploy-branch tip matters; build runs are never skipped (two tags pushed at once
 * are both built, in turn). Runs are cancelled through an AbortSignal. After a restart,
 * `start` re-queues each interrupted run once (attempt 2). See docs/adr/0023-git-pipelines.md.
 */
import { describeGroup, RUN_MARKER_VARIABLE } from './run-process-groups.js';
import { RunError } from './run-error.js';
import { appendRunLog } from './run-log.js';
import { isTerminal, type PipelineKind, type RunInput, type RunRecord } from './run-record.js';
import type { RunStore } from './run-store.js';

/** Runs re-queued after an interruption at most this many times in all (attempt 2 is the last). */
export const MAX_ATTEMPTS = 2;

/** What an executor gets for one run. */
export interface RunContext {
  readonly run: RunRecord;
  /** Aborted when the run is cancelled; stop and kill what was started. */
  readonly signal: AbortSignal;
  /** The run's log file; a build runner may append to it directly. */
  readonly logFile: string;
  /** Variables to put in the environment of every process started, so a restart finds them. */
  readonly processMarker: Readonly<Record<string, string>>;
  /** Appends a line to the run's log. Security: mask secrets first. */
  log(text: string): Promise<void>;
  /** Records a process group the run started, durably, so a restart can kill it. */
  reportProcessGroup(pgid: number): Promise<void>;
  /** Records the commit the run works on, once known (before it ends). */
  reportCommit(commit: string): Promise<void>;
}

/** How an executor says a run ended; a rejection is a `failed` run with the error's message. */
export interface RunOutcome {
  readonly state: 'succeeded' | 'failed' | 'timed-out';
  readonly reason?: string;
  readonly errors?: readonly string[];
  readonly commit?: string;
  readonly artifact?: { readonly tag: string; readonly digest: string };
}

/** Runs one pipeline's runs. */
export type RunExecutor = (context: RunContext) => Promise<RunOutcome>;

/** Options of {@link RunQueue}. */
export interface RunQueueOptions {
  readonly store: RunStore;
  /** The executor of each pipeline; a run of a pipeline without one fails. */
  readonly executors: Readonly<Partial<Record<PipelineKind, RunExecutor>>>;
  /** Runs at once, across sources; default 1. */
  readonly concurrency?: number;
  /** Told of failures to record a run's end; default console.error. */
  readonly onError?: (err: unknown, context: string) => void;
}

interface Active {
  readonly source: string;
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

/** The queue over a {@link RunStore}; call {@link RunQueue.start} once. */
export class RunQueue {
  readonly #store: RunStore;
  readonly #executors: RunQueueOptions['executors'];
  readonly #concurrency: number;
  readonly #onError: (err: unknown, context: string) => void;
  readonly #active = new Map<string, Active>();
  /** Runs that could not be marked running (a failed write): not retried until a restart. */
  readonly #unstartable = new Set<string>();
  #started = false;
  #closed = false;

  constructor(options: RunQueueOptions) {
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw new RunError(
        'AVIARY_RUN_INVALID_INPUT',
        `concurrency: expected a positive integer, got ${concurrency}`,
      );
    this.#store = options.store;
    this.#executors = options.executors;
    this.#concurrency = concurrency;
    this.#onError = options.onError ?? ((err, context) => console.error(`run queue: ${context}:`, err));
  }

  /**
   * Re-queues every interrupted run not re-queued yet whose attempt is below
   * {@link MAX_ATTEMPTS}, then starts running queued runs. Resolves the re-queued runs.
   */
  async start(): Promise<RunRecord[]> {
    const runs = this.#store.list();
    const requeued: RunRecord[] = [];
    for (const run of runs) {
      if (run.state !== 'interrupted' || run.attempt >= MAX_ATTEMPTS) continue;
      if (runs.some((other) => other.requeuedFrom === run.id)) continue;
      requeued.push(
        await this.#store.create(inputOf(run), { requeuedFrom: run.id, attempt: run.attempt + 1 }),
      );
    }
    this.#started = true;
    this.#pump();
    return requeued;
  }

  /**
   * Records a queued run durably (so the webhook can answer 202 with its id) and resolves it;
   * a release run skips the older queued release runs of its source.
   */
  async enqueue(input: RunInput): Promise<RunRecord> {
    const run = await this.#store.create(input);
    if (run.pipeline === 'release') {
      const older = this.#store
        .list()
        .filter((o) => o.pipeline === 'release' && o.source === run.source && o.state === 'queued');
      for (const other of older.filter((o) => o.id !== run.id && !this.#active.has(o.id)))
        await this.#finish(other.id, { state: 'skipped', reason: `superseded by ${run.id}` });
    }
    this.#pump();
    return this.#store.require(run.id);
  }

  /**
   * Cancels run `id`: a queued run becomes `skipped`, a running one is aborted and ends
   * `failed`; both with reason `cancelled`. Resolves the run once it has ended.
   * @throws RunError RUN_NOT_FOUND, or RUN_WRONG_STATE for a finished run
   */
  async cancel(id: string): Promise<RunRecord> {
    const run = this.#store.require(id);
    const active = this.#active.get(id);
    if (active !== undefined) {
      active.controller.abort();
      await active.done;
      return this.#store.require(id);
    }
    if (run.state !== 'queued')
      throw new RunError(
        'AVIARY_RUN_WRONG_STATE',
        `run ${id} is ${run.state}; only a queued or running run can be cancelled`,
      );
    return this.#finish(id, { state: 'skipped', reason: 'cancelled' });
  }

  /** Queues a new run with the inputs of run `id` (any state). @throws RunError RUN_NOT_FOUND */
  async rerun(id: string): Promise<RunRecord> {
    const run = await this.#store.create(inputOf(this.#store.require(id)), { rerunOf: id });
    this.#pump();
    return run;
  }

  /** Resolves once no run is queued or running (call after {@link RunQueue.start}). */
  async idle(): Promise<void> {
    while (this.#active.size > 0 || this.#store.list().some((run) => run.state === 'queued')) {
      await Promise.all([...this.#active.values()].map((active) => active.done));
      if (this.#active.size === 0 && this.#store.list().some((run) => run.state === 'queued')) {
        await new Promise<void>((resolve) => this.#store.once('run', () => resolve()));
      }
    }
  }

  /**
   * Starts no more runs; aborts the running ones when `abort` is true (they end `interrupted`,
   * so the next {@link RunQueue.start} re-queues them); resolves once they have ended.
   */
  async close(options: { abort?: boolean } = {}): Promise<void> {
    this.#closed = true;
    for (const active of this.#active.values()) if (options.abort === true) active.controller.abort();
    await Promise.all([...this.#active.values()].map((active) => active.done));
  }

  #pump(): void {
    if (!this.#started || this.#closed) return;
    const busy = new Set([...this.#active.values()].map((active) => active.source));
    for (const run of this.#store.list()) {
      if (this.#active.size >= this.#concurrency) return;
      if (run.state !== 'queued' || busy.has(run.source) || this.#unstartable.has(run.id)) continue;
      busy.add(run.source);
      this.#launch(run);
    }
  }

  #launch(run: RunRecord): void {
    const controller = new AbortController();
    let settle!: () => void;
    const done = new Promise<void>((resolve) => (settle = resolve));
    this.#active.set(run.id, { source: run.source, controller, done });
    this.#execute(run, controller.signal)
      .catch((err: unknown) => this.#onError(err, `recording the end of run ${run.id}`))
      .finally(() => {
        this.#active.delete(run.id);
        settle();
        this.#pump();
      });
  }

  async #execute(queued: RunRecord, signal: AbortSignal): Promise<void> {
    const store = this.#store;
    const run = await store
      .update(queued.id, { state: 'running', startedAt: store.timestamp() })
      .catch((err: unknown) => {
        this.#unstartable.add(queued.id);
        throw err;
      });
    const log = (text: string): Promise<void> => appendRunLog(store, run.id, text);
    await log(`[run] ${run.id}: ${run.pipeline} of ${run.source} ${run.ref}, attempt ${run.attempt}`);
    const executor = this.#executors[run.pipeline];
    const context: RunContext = {
      run,
      signal,
      logFile: store.logPath(run.id),
      processMarker: { [RUN_MARKER_VARIABLE]: run.id },
      log,
      async reportProcessGroup(pgid) {
        const groups = store.require(run.id).processGroups ?? [];
        await store.update(run.id, { processGroups: [...groups, await describeGroup(pgid)] });
      },
      async reportCommit(commit) {
        await store.update(run.id, { commit });
      },
    };
    const outcome: RunOutcome =
      executor === undefined
        ? { state: 'failed', reason: `no executor for the ${run.pipeline} pipeline` }
        : await executor(context).catch((err: unknown) => ({
            state: 'failed' as const,
            reason: err instanceof Error ? err.message : String(err),
          }));
    const cancelled = signal.aborted && outcome.state !== 'succeeded';
    // Aborted by close() (Aviary stopping), a run is interrupted: the next start re-queues it.
    const final: Omit<RunOutcome, 'state'> & { state: RunRecord['state'] } = !cancelled
      ? outcome
      : this.#closed
        ? { ...outcome, state: 'interrupted', reason: 'Aviary stopped while it ran' }
        : { ...outcome, state: 'failed', reason: 'cancelled' };
    await log(`[run] ${final.state}${final.reason === undefined ? '' : `: ${final.reason}`}`);
    await this.#finish(run.id, final);
  }

  async #finish(id: string, outcome: Omit<RunOutcome, 'state'> & { state: RunRecord['state'] }) {
    if (isTerminal(this.#store.require(id).state)) return this.#store.require(id);
    return this.#store.update(id, {
      state: outcome.state,
      endedAt: this.#store.timestamp(),
      ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
      ...(outcome.errors === undefined ? {} : { errors: [...outcome.errors] }),
      ...(outcome.commit === undefined ? {} : { commit: outcome.commit }),
      ...(outcome.artifact === undefined ? {} : { artifact: { ...outcome.artifact } }),
    });
  }
}

function inputOf(run: RunRecord): RunInput {
  return {
    pipeline: run.pipeline,
    source: run.source,
    ref: run.ref,
    ...(run.after === undefined ? {} : { after: run.after }),
    ...(run.deliveryId === undefined ? {} : { deliveryId: run.deliveryId }),
  };
}
