/**
 * The rollout controller: one timer per app drives the pure state machine. Each tick
 * observes the target, runs the checks `requiredChecks` asks for, calls `step`, executes
 * the actions and persists status and events atomically, so a restart after `kill -9`
 * resumes where the last tick left off. See docs/adr/0006-controller-runtime.md.
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { revisionOf, type AppSpec } from '../config/app-schema.js';
import { AviaryError } from '../errors.js';
import type { VersionRole } from '../target/target.js';
import {
  executeActions,
  syncRoutes,
  type AppRouting,
  type ExecutorDeps,
  type RolloutEventRecord,
} from './action-executor.js';
import { runChecks, type CheckRunnerDeps } from './check-runner.js';
import { ControllerMetrics } from './controller-metrics.js';
import { gateAppId, type GateStore, type GateType } from './gates.js';
import { NO_CHECKS, type CheckResults, type OperatorCommand, type RoleObservation } from './observations.js';
import { requiredChecks } from './required-checks.js';
import { SETTLED_PHASES, type RolloutStatus } from './rollout-status.js';
import { StateJournal } from './state-journal.js';
import { writeFileAtomic } from './state-files.js';
import {
  appendEvent,
  EVENT_HISTORY,
  eventOf,
  newAppRecord,
  persistedOf,
  rememberSpec,
  specFor,
  type AppRecord,
  type PersistedRollout,
} from './app-record.js';
import { restoreVersions } from './controller-resume.js';
import { step, terminate } from './step.js';

/** Options of a {@link RolloutController}. */
export interface ControllerOptions {
  readonly stateDir: string;
  readonly executor: Omit<ExecutorDeps, 'onEvent' | 'onError'>;
  readonly checks: CheckRunnerDeps;
  readonly gates: GateStore;
  /** Longest wait between ticks (readiness and commands are noticed this fast). Default 1 s. */
  readonly maxTickMs?: number;
  /** Journal size at which the rollout state journal is sealed and folded (ADR 0009); default 16 MiB. */
  readonly compactStateAtBytes?: number;
  readonly now?: () => number;
}

/** A read-only view of one rollout for the API and the dashboard. */
export interface RolloutView {
  readonly app: string;
  readonly revision: string;
  readonly status: RolloutStatus | undefined;
  readonly lastChecks: CheckResults | undefined;
  readonly routing: AppRouting['lastAction'];
  readonly pendingCommands: number;
}

/** Drives every app's rollout; emits `event` (RolloutEventRecord) and `status` (RolloutView). */
export class RolloutController extends EventEmitter {
  readonly metrics = new ControllerMetrics();
  private readonly records = new Map<string, AppRecord>();
  private readonly store: StateJournal<PersistedRollout, RolloutEventRecord>;
  private readonly deps: ExecutorDeps;
  private readonly abort = new AbortController();
  private readonly now: () => number;
  private stopped = false;

  constructor(private readonly options: ControllerOptions) {
    super();
    this.now = options.now ?? Date.now;
    this.store = new StateJournal(join(options.stateDir, 'rollouts'), {
      eventLimit: EVENT_HISTORY,
      ...(options.compactStateAtBytes !== undefined ? { compactAtBytes: options.compactStateAtBytes } : {}),
      onCompactionError: (err) =>
        process.emitWarning(`state journal compaction failed, retried after the next save: ${String(err)}`),
    });
    this.deps = {
      ...options.executor,
      onEvent: (event) => this.recordEvent(event),
      onError: (app, message) =>
        this.recordEvent(eventOf(undefined, app, this.now(), 'Error', message, 'warning')),
    };
  }

  /** The namespace apps are reported in (webhook payloads, alerts, gates). */
  get namespace(): string {
    return this.options.executor.namespace;
  }

  /** Loads persisted state, adopts what still runs, restores routes, then starts ticking. */
  async start(apps: readonly AppSpec[]): Promise<void> {
    await this.options.executor.target.recover(this.abort.signal);
    const saved = await this.store.loadAll();
    for (const spec of apps) {
      const record = newAppRecord(spec, saved.get(spec.name));
      rememberSpec(record, spec);
      this.records.set(spec.name, record);
      if (record.status) {
        await restoreVersions(record, this.options.executor.target, this.deps, this.now(), this.abort.signal);
        await syncRoutes(this.deps, spec, record.routing, this.abort.signal).catch(() => undefined);
      }
    }
    for (const name of this.records.keys()) this.schedule(name, 0);
  }

  /** Applies a new set of app specs: changed specs become new revisions; removed apps terminate. */
  updateApps(apps: readonly AppSpec[]): void {
    for (const spec of apps) {
      const record = this.records.get(spec.name);
      if (record) {
        record.spec = spec;
        rememberSpec(record, spec);
        this.schedule(spec.name, 0);
      }
    }
  }

  private schedule(app: string, delayMs: number): void {
    const record = this.records.get(app);
    if (!record || this.stopped) return;
    clearTimeout(record.timer);
    record.timer = setTimeout(() => void this.tick(app), delayMs);
  }

  /** Runs one tick now (or right after the one in progress). */
  tick(app: string): Promise<void> {
    const record = this.records.get(app);
    if (!record) return Promise.resolve();
    if (record.running) {
      record.again = true;
      return record.running;
    }
    record.running = this.runTick(record).finally(() => {
      record.running = undefined;
      if (record.again) {
        record.again = false;
        this.schedule(app, 0);
      }
    });
    return record.running;
  }

  private async observeRole(app: string, role: VersionRole): Promise<RoleObservation> {
    const status = await this.options.executor.target.status(app, role);
    if (!status || status.desiredReplicas === 0) return { revision: null, replicas: 0, readyReplicas: 0 };
    return {
      revision: status.revision,
      replicas: status.desiredReplicas,
      readyReplicas: status.readyReplicas,
    };
  }

  private async runTick(record: AppRecord): Promise<void> {
    const started = process.hrtime.bigint();
    const { spec } = record;
    const signal = this.abort.signal;
    let nextDelay = this.options.maxTickMs ?? 1000;
    try {
      const now = this.now();
      const [primary, canary] = await Promise.all([
        this.observeRole(spec.name, 'primary'),
        this.observeRole(spec.name, 'canary'),
      ]);
      const commands = record.commands.splice(0);
      let checks: CheckResults = NO_CHECKS;
      if (commands.length === 0) {
        const required = requiredChecks(spec, record.status, now, { primary, canary });
        if (required.hookStages.length > 0 || required.metrics.length > 0) {
          checks = await runChecks(
            this.options.checks,
            spec,
            required,
            { namespace: this.namespace, checksum: record.status?.lastAppliedSpec ?? '' },
            now,
            signal,
          );
          record.lastChecks = checks;
        }
      }
      const before = record.status;
      const result = step(spec, record.status, { primary, canary, checks, commands }, now);
      record.status = result.status;
      await this.consumeGates(spec.name, before, result.status);
      await executeActions(
        this.deps,
        spec,
        (rev) => specFor(record, rev),
        result.status,
        result.actions,
        record.routing,
        signal,
      );
      await syncRoutes(this.deps, spec, record.routing, signal);
      this.metrics.observeTick(
        spec.name,
        result.status,
        checks,
        Number(process.hrtime.bigint() - started) / 1e9,
      );
      await this.persist(record);
      this.emit('status', this.view(spec.name));
      const untilCheck = result.status.nextCheckAt - this.now();
      // A settled rollout has no check due, whatever its old nextCheckAt says; a new
      // revision, a command or a gate ticks at once. Polling it every 50 ms only burns CPU.
      const idle = untilCheck <= 0 && SETTLED_PHASES.includes(result.status.phase);
      if (!idle) nextDelay = Math.max(50, Math.min(nextDelay, untilCheck));
    } catch (err) {
      if (signal.aborted) return;
      this.deps.onError(spec.name, `tick failed: ${(err as Error).message}`);
    } finally {
      this.schedule(spec.name, nextDelay);
    }
  }

  /**
   * One-shot gates close again once the transition they allowed has happened. Persisted at
   * once: a restart must not find a used rollback gate open and roll back the next release.
   */
  private async consumeGates(
    app: string,
    before: RolloutStatus | undefined,
    after: RolloutStatus,
  ): Promise<void> {
    if (!before || before.phase === after.phase) return;
    const id = gateAppId(app, this.namespace);
    if (after.phase === 'Failed' && this.options.gates.consume(id, 'rollback', 'rollout rolled back'))
      await this.saveGates();
  }

  private async saveGates(): Promise<void> {
    await writeFileAtomic(
      join(this.options.stateDir, 'gates.json'),
      JSON.stringify(this.options.gates.toJSON()),
    );
  }

  private recordEvent(event: RolloutEventRecord): void {
    const record = this.records.get(event.app);
    if (record) appendEvent(record, event);
    this.emit('event', event);
  }

  /** Saves the record's state document and the events recorded since the last save. */
  private async persist(record: AppRecord): Promise<void> {
    const fresh = record.unsaved.splice(0);
    try {
      await this.store.save(record.spec.name, persistedOf(record), fresh);
    } catch (err) {
      // Not written: they go with the next save, before anything recorded since.
      record.unsaved.unshift(...fresh);
      throw err;
    }
  }

  private recordFor(app: string): AppRecord {
    const record = this.records.get(app);
    if (!record) {
      throw new AviaryError(
        'AVIARY_NOT_FOUND',
        `rollout ${app} does not exist; known apps: ${[...this.records.keys()].join(', ')}`,
      );
    }
    return record;
  }

  /** Queues an operator command; it is applied at the next tick, which starts now. */
  command(app: string, command: OperatorCommand, by: string): void {
    const record = this.recordFor(app);
    if (record.spec.canary.suspend) {
      throw new AviaryError(
        'AVIARY_ROLLOUT_SUSPENDED',
        `rollout ${app} is suspended (canary.suspend: true); commands are not applied`,
      );
    }
    record.commands.push(command);
    this.recordEvent(
      eventOf(record, app, this.now(), 'CommandReceived', `${command.kind} requested by ${by}`),
    );
    this.schedule(app, 0);
  }

  /** Opens or closes a built-in manual gate and records who did it. */
  async setGate(app: string, gate: GateType, open: boolean, by: string, reason?: string): Promise<void> {
    const record = this.recordFor(app);
    const id = gateAppId(app, this.namespace);
    const request = { by, ...(reason !== undefined ? { reason } : {}) };
    if (open) this.options.gates.open(id, gate, request);
    else this.options.gates.close(id, gate, request);
    await this.saveGates();
    const message = `${gate} gate ${open ? 'opened' : 'closed'} by ${by}${reason ? `: ${reason}` : ''}`;
    this.recordEvent(eventOf(record, app, this.now(), open ? 'GateOpened' : 'GateClosed', message));
    this.schedule(app, 0);
  }

  /** Brings the router in line with the target's ready endpoints now (a replica is leaving). */
  async resync(app: string): Promise<void> {
    const record = this.records.get(app);
    if (record) await syncRoutes(this.deps, record.spec, record.routing, this.abort.signal);
  }

  /** Names of every app. */
  apps(): string[] {
    return [...this.records.keys()];
  }

  /** A view of one rollout. */
  view(app: string): RolloutView {
    const record = this.recordFor(app);
    return {
      app,
      revision: revisionOf(record.spec.process),
      status: record.status,
      lastChecks: record.lastChecks,
      routing: record.routing.lastAction,
      pendingCommands: record.commands.length,
    };
  }

  /** The app's spec. */
  spec(app: string): AppSpec {
    return this.recordFor(app).spec;
  }

  /** Events of one app (or all), oldest first, after `since` (ms). */
  events(app?: string, since = 0): RolloutEventRecord[] {
    const records = app === undefined ? [...this.records.values()] : [this.recordFor(app)];
    return records.flatMap((r) => r.events.filter((e) => e.at > since)).sort((a, b) => a.at - b.at);
  }

  /** Terminates an app's rollout: stops its processes and removes its routes. */
  async remove(app: string): Promise<void> {
    const record = this.recordFor(app);
    clearTimeout(record.timer);
    await record.running;
    if (record.status) {
      const result = terminate(record.spec, record.status, this.now());
      await executeActions(
        this.deps,
        record.spec,
        (rev) => specFor(record, rev),
        result.status,
        result.actions,
        record.routing,
        this.abort.signal,
      );
    }
    await this.options.executor.target.stop(app, 'canary');
    await this.options.executor.target.stop(app, 'primary');
    await this.options.executor.router.finalize(app).catch(() => undefined);
    this.records.delete(app);
    await this.store.remove(app);
  }

  /** Stops ticking; waits for ticks in progress. Processes keep running unless the target is closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const record of this.records.values()) clearTimeout(record.timer);
    await Promise.all([...this.records.values()].map((r) => r.running ?? Promise.resolve()));
    await this.store.settled();
    this.abort.abort();
  }
}
