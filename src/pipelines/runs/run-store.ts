/**
 * The durable record of pipeline runs: one JSON file per run, `<dir>/<id>.json`, replaced
 * atomically on every change (temporary file, fsync, rename, directory fsync), and its log,
 * `<dir>/<id>.log`. A file per run rather than a journal: a run changes a handful of times,
 * pruning the history is deleting two files, and no compaction can lose a record. History
 * is bounded: past `maxRuns`, the oldest finished runs go with their logs.
 *
 * On open, a run still `running` was cut off by a controller that died: it is marked
 * `interrupted` and what it left running is killed (`run-process-groups.ts`); the queue
 * re-queues it once. Every change is emitted as `run` with the new record.
 * See docs/adr/0023-git-pipelines.md.
 */
import { EventEmitter } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KeyedQueue } from '../../keyed-queue.js';
import {
  nodeStateFileSystem,
  writeFileAtomic,
  type StateFileSystem,
} from '../../rollout/state/state-files.js';
import { RunError } from './run-error.js';
import { killLeftoverGroups } from './run-process-groups.js';
import {
  compareRunIds,
  isTerminal,
  nextRunId,
  RUN_ID,
  runRecordSchema,
  type RunInput,
  type RunRecord,
} from './run-record.js';

/** Runs kept when no `maxRuns` is given. */
export const DEFAULT_MAX_RUNS = 500;

/** Options of {@link RunStore.open}. */
export interface RunStoreOptions {
  /** Finished runs (and their logs) kept; default {@link DEFAULT_MAX_RUNS}. Queued and running runs are always kept. */
  readonly maxRuns?: number;
  /** The clock; a seam for tests. */
  readonly now?: () => Date;
  /** The file-system seam; default the real one. */
  readonly fileSystem?: StateFileSystem;
  /** Kills what an interrupted run left running; default {@link killLeftoverGroups}. */
  readonly killLeftovers?: (run: RunRecord) => Promise<unknown>;
}

/** Fields a run's executor or its queue may change. */
export type RunPatch = Partial<Omit<RunRecord, 'id' | 'pipeline' | 'source' | 'ref' | 'createdAt'>>;

/** The run store; emits `run` (a {@link RunRecord}) after each change is durable. */
export class RunStore extends EventEmitter<{ run: [RunRecord] }> {
  readonly #writes = new KeyedQueue();
  #lastId: string | undefined;

  private constructor(
    /** The directory of the run files and logs. */
    readonly dir: string,
    private readonly runs: Map<string, RunRecord>,
    private readonly maxRuns: number,
    private readonly now: () => Date,
    private readonly fs: StateFileSystem,
  ) {
    super();
    this.#lastId = [...runs.keys()].sort(compareRunIds).at(-1);
  }

  /**
   * Opens the store in `dir` (created when missing), reading every run file; marks runs
   * found `running` as `interrupted` and kills their leftover process groups.
   * @throws RunError AVIARY_RUN_STATE_CORRUPT naming a run file that does not parse
   */
  static async open(dir: string, options: RunStoreOptions = {}): Promise<RunStore> {
    const maxRuns = options.maxRuns ?? DEFAULT_MAX_RUNS;
    if (!Number.isInteger(maxRuns) || maxRuns < 1)
      throw new RunError('AVIARY_RUN_INVALID_INPUT', `maxRuns: expected a positive integer, got ${maxRuns}`);
    const fs = options.fileSystem ?? nodeStateFileSystem;
    await fs.makeDirectory(dir);
    const runs = new Map<string, RunRecord>();
    for (const name of await readdir(dir)) {
      if (name.startsWith('.') && name.endsWith('.tmp')) await fs.remove(join(dir, name));
      if (!name.endsWith('.json') || name.startsWith('.')) continue;
      const record = parseRunFile(join(dir, name), await readFile(join(dir, name), 'utf8'));
      runs.set(record.id, record);
    }
    const store = new RunStore(dir, runs, maxRuns, options.now ?? (() => new Date()), fs);
    const killLeftovers = options.killLeftovers ?? killLeftoverGroups;
    for (const run of [...runs.values()].filter((r) => r.state === 'running')) {
      await killLeftovers(run);
      await store.update(run.id, {
        state: 'interrupted',
        endedAt: store.now().toISOString(),
        reason: 'the controller stopped while the run was running',
      });
    }
    return store;
  }

  /** The run with `id`, or undefined. */
  get(id: string): RunRecord | undefined {
    return this.runs.get(id);
  }

  /** The run with `id`. @throws RunError AVIARY_RUN_NOT_FOUND */
  require(id: string): RunRecord {
    const run = this.runs.get(id);
    if (run === undefined)
      throw new RunError('AVIARY_RUN_NOT_FOUND', `run ${id}: no such run (or pruned from history)`);
    return run;
  }

  /** Every run, oldest first. */
  list(): RunRecord[] {
    return [...this.runs.values()].sort((a, b) => compareRunIds(a.id, b.id));
  }

  /** The log file of run `id` (it may not exist yet). @throws RunError AVIARY_RUN_NOT_FOUND for a string that is no run id */
  logPath(id: string): string {
    if (!RUN_ID.test(id))
      throw new RunError('AVIARY_RUN_NOT_FOUND', `run ${JSON.stringify(id)}: not a run id`);
    return join(this.dir, `${id}.log`);
  }

  /** Creates a queued run, durably, and prunes the history. @throws RunError AVIARY_RUN_INVALID_INPUT naming the field */
  async create(
    input: RunInput,
    extra: Pick<RunPatch, 'requeuedFrom' | 'rerunOf' | 'attempt'> = {},
  ): Promise<RunRecord> {
    const now = this.now();
    const id = nextRunId(this.#lastId, now);
    this.#lastId = id;
    const parsed = runRecordSchema.safeParse({
      id,
      pipeline: input.pipeline,
      source: input.source,
      ref: input.ref,
      ...(input.after === undefined ? {} : { after: input.after }),
      ...(input.deliveryId === undefined ? {} : { deliveryId: input.deliveryId }),
      state: 'queued',
      createdAt: now.toISOString(),
      attempt: 1,
      ...extra,
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new RunError(
        'AVIARY_RUN_INVALID_INPUT',
        `run input ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
      );
    }
    const record = parsed.data;
    await this.#save(record);
    await this.#prune();
    return record;
  }

  /** Applies `patch` to run `id`, durably; resolves the new record. @throws RunError AVIARY_RUN_NOT_FOUND */
  async update(id: string, patch: RunPatch): Promise<RunRecord> {
    const record = runRecordSchema.parse({ ...this.require(id), ...patch });
    await this.#save(record);
    return record;
  }

  /** Resolves run `id` once it is in a final state (at once when it already is). */
  finished(id: string): Promise<RunRecord> {
    const run = this.require(id);
    if (isTerminal(run.state)) return Promise.resolve(run);
    return new Promise((resolve) => {
      const listener = (changed: RunRecord): void => {
        if (changed.id !== id || !isTerminal(changed.state)) return;
        this.off('run', listener);
        resolve(changed);
      };
      this.on('run', listener);
    });
  }

  /** The clock the store dates runs with. */
  timestamp(): string {
    return this.now().toISOString();
  }

  async #save(record: RunRecord): Promise<void> {
    this.runs.set(record.id, record);
    await this.#writes.run(record.id, () =>
      writeFileAtomic(join(this.dir, `${record.id}.json`), `${JSON.stringify(record, null, 2)}\n`, this.fs),
    );
    this.emit('run', record);
  }

  async #prune(): Promise<void> {
    const finished = this.list().filter((run) => isTerminal(run.state));
    const excess = this.runs.size - this.maxRuns;
    for (const run of finished.slice(0, Math.max(0, excess))) {
      this.runs.delete(run.id);
      await this.#writes.run(run.id, async () => {
        await this.fs.remove(join(this.dir, `${run.id}.json`));
        await this.fs.remove(this.logPath(run.id));
      });
    }
  }
}

function parseRunFile(path: string, text: string): RunRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new RunError('AVIARY_RUN_STATE_CORRUPT', `${path}: not JSON; fix or remove the file`, {
      cause: error,
    });
  }
  const parsed = runRecordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined ? '' : `${issue.path.join('.') || '(root)'}: ${issue.message}`;
    throw new RunError('AVIARY_RUN_STATE_CORRUPT', `${path}: ${where}; fix or remove the file`);
  }
  return parsed.data;
}
