/**
 * The rollout controller: one timer per app drives the pure state machine. Each tick
 * observes the target, runs the checks `requiredChecks` asks for, calls `step`, executes
 * the actions and persists status and events atomically, so a restart after `kill -9`
 * resumes where the last tick left off. See docs/adr/0006-controller-runtime.md.
 */
import { EventEmitter } from 'node:events';
import { isDeepStrictEqual } from 'node:util';
import type { ControllerOptions } from './controller-options.js';
import type { AppSpec } from '../../config/app-schema.js';
import { AviaryError } from '../../errors.js';
import { syncRoutes, type ExecutorDeps, type RolloutEventRecord } from './action-executor.js';
import { executeStep, terminateApp } from './step-execution.js';
import { ControllerMetrics } from './controller-metrics.js';
import type { GateType } from '../../config/app-webhook.js';
import type { OperatorCommand } from '../step/observations.js';
import type { RolloutStateStore } from '../state/rollout-state-store.js';
import type { RecoveryReport } from '../../target/target.js';
import {
  appendEvent,
  eventOf,
  eventsSince,
  newAppRecord,
  type IdentifyVersion,
  rememberSpec,
  viewOf,
  type AppRecord,
  type PersistedRollout,
  type RolloutView,
} from './app-record.js';
import { resumeRecords } from './controller-resume.js';
import { acceptCommand, changeGate, consumeGates, type GateDeps } from './operator-input.js';
import { defaultStateStore } from './rollout-persistence.js';
import { StateWrites } from './state-writes.js';
import { step } from '../step/step.js';
import { followClockJump, TickClocks, type ClockJump } from './clock-jumps.js';
import { nextTickDelay } from './tick-delay.js';
import { tickObservations, type JudgeLook, type ObserveDeps } from './tick-observations.js';

export type { ControllerOptions } from './controller-options.js';
export type { RolloutView } from './app-record.js';
export type { JudgeLook } from './tick-observations.js';
export type { ClockJump } from './clock-jumps.js';

/**
 * Drives every app's rollout; emits `event` (RolloutEventRecord), `status` (RolloutView),
 * `look` (JudgeLook, each look of the judge between check ticks) and `clockJump` (ClockJump,
 * before the tick that found it goes on, so the judge can move its windows too).
 */
export class RolloutController extends EventEmitter {
  readonly metrics = new ControllerMetrics();
  private readonly records = new Map<string, AppRecord>();
  private readonly store: RolloutStateStore<PersistedRollout, RolloutEventRecord>;
  private readonly identify: IdentifyVersion;
  private readonly deps: ExecutorDeps;
  private readonly observeDeps: ObserveDeps;
  private readonly gateDeps: GateDeps;
  private readonly abort = new AbortController();
  private readonly stateWrites: StateWrites;
  private readonly now: () => number;
  private readonly clocks: TickClocks;
  private stopped = false;

  constructor(private readonly options: ControllerOptions) {
    super();
    this.now = options.now ?? Date.now;
    const monotonic = options.monotonic ?? (options.now ? this.now : () => performance.now());
    this.clocks = new TickClocks(this.now, monotonic);
    this.store = options.store ?? defaultStateStore(options.stateDir, options.compactStateAtBytes);
    this.stateWrites = new StateWrites({
      store: this.store,
      metrics: this.metrics,
      now: () => this.now(),
      event: (record, reason, message, severity) =>
        this.recordEvent(eventOf(record, record.spec.name, this.now(), reason, message, severity)),
    });
    const { target, namespace } = options.executor;
    this.identify = (spec) => target.identify(spec);
    this.observeDeps = { target, checks: options.checks, namespace };
    this.gateDeps = { stateDir: options.stateDir, gates: options.gates, namespace };
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

  /**
   * Loads persisted state, adopts what still runs (or starts it again), waits for it to be
   * ready, restores routes, then starts ticking.
   */
  async start(apps: readonly AppSpec[]): Promise<void> {
    const recovered = await this.options.executor.target.recover(this.abort.signal);
    await this.resume(apps, recovered);
  }

  /**
   * Starts driving apps that appeared after `start` (a new Canary under the operator), from
   * their saved state if any; an app already driven takes the spec as `updateApps` does.
   */
  async add(apps: readonly AppSpec[]): Promise<void> {
    const known = apps.filter((spec) => this.records.has(spec.name));
    this.updateApps(known);
    await this.resume(
      apps.filter((spec) => !known.includes(spec)),
      { adopted: [], discarded: [] },
    );
  }

  /** Records `apps` from saved state, restores what they ran (controller-resume.ts), ticks. */
  private async resume(apps: readonly AppSpec[], recovered: RecoveryReport): Promise<void> {
    if (apps.length === 0) return;
    const saved = await this.store.loadAll();
    const records = apps.map((spec) => {
      const record = newAppRecord(spec, saved.get(spec.name), this.identify);
      rememberSpec(record, spec, this.identify);
      this.records.set(spec.name, record);
      return record;
    });
    await resumeRecords(records, recovered, {
      target: this.options.executor.target,
      deps: this.deps,
      now: this.now,
      restoreWaitMs: this.options.restoreReadyTimeoutMs ?? 5_000,
      signal: this.abort.signal,
      recordEvent: (event) => this.recordEvent(event),
    });
    for (const record of records) this.schedule(record.spec.name, 0);
  }

  /**
   * Applies a new set of app specs: changed specs become new revisions. A spec equal to the one
   * driven (a file or the Canaries read again) changes nothing: no tick, no route re-applied.
   */
  updateApps(apps: readonly AppSpec[]): void {
    for (const spec of apps) {
      const record = this.records.get(spec.name);
      if (record && !isDeepStrictEqual(record.spec, spec)) {
        rememberSpec(record, spec, this.identify);
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

  private async runTick(record: AppRecord): Promise<void> {
    const started = process.hrtime.bigint();
    const { spec } = record;
    const signal = this.abort.signal;
    let nextDelay = this.options.maxTickMs ?? 1000;
    // While the state cannot be saved the rollout holds and only the save is tried (state-writes.ts).
    if (record.stateWriteFailure && !(await this.stateWrites.save(record))) {
      this.schedule(spec.name, nextDelay);
      return;
    }
    try {
      const { now, jumpMs } = this.clocks.read(spec.name);
      if (jumpMs !== 0) {
        this.recordEvent(followClockJump(record, jumpMs, now));
        this.emit('clockJump', { app: spec.name, jumpMs } satisfies ClockJump);
      }
      const observations = await tickObservations(this.observeDeps, record, now, signal);
      for (const result of observations.looks ?? [])
        this.emit('look', { app: spec.name, at: now, result } satisfies JudgeLook);
      const before = record.status;
      const result = step(record.rollout, record.status, observations, now);
      await executeStep(this.deps, record, spec, result, signal);
      await consumeGates(this.gateDeps, spec.name, before, result.status);
      await syncRoutes(this.deps, spec, record.routing, signal);
      this.metrics.observeTick(
        spec.name,
        result.status,
        observations.checks,
        Number(process.hrtime.bigint() - started) / 1e9,
      );
      await this.stateWrites.save(record);
      this.emit('status', this.view(spec.name));
      nextDelay = nextTickDelay(record.rollout, result.status, record.lastLookAt, this.now(), nextDelay);
    } catch (err) {
      if (signal.aborted) return;
      this.deps.onError(spec.name, `tick failed: ${(err as Error).message}`);
    } finally {
      this.schedule(spec.name, nextDelay);
    }
  }

  private recordEvent(event: RolloutEventRecord): void {
    const record = this.records.get(event.app);
    // Listeners (the event stream, the demo) get the event as kept, with its evidence.
    this.emit('event', record ? appendEvent(record, event) : event);
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

  /** Queues an operator command for the next tick, which starts now; refuses one that would do nothing (`acceptCommand`). */
  command(app: string, command: OperatorCommand, by: string): void {
    const { event, refusal } = acceptCommand(this.recordFor(app), app, command, by, this.now());
    this.recordEvent(event);
    if (refusal) throw refusal;
    this.schedule(app, 0);
  }

  /** Opens or closes a built-in manual gate and records who did it. */
  async setGate(app: string, gate: GateType, open: boolean, by: string, reason?: string): Promise<void> {
    const record = this.recordFor(app);
    const message = await changeGate(this.gateDeps, app, gate, open, by, reason);
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
    return viewOf(this.recordFor(app));
  }

  /** The app's spec. */
  spec(app: string): AppSpec {
    return this.recordFor(app).spec;
  }

  /** Events of one app (or all), oldest first, after `since` (ms). */
  events(app?: string, since = 0): RolloutEventRecord[] {
    return eventsSince(app === undefined ? [...this.records.values()] : [this.recordFor(app)], since);
  }

  /** Terminates an app's rollout: stops its processes and removes its routes. */
  async remove(app: string): Promise<void> {
    const record = this.recordFor(app);
    clearTimeout(record.timer);
    await record.running;
    await terminateApp(this.deps, record, this.now(), this.abort.signal);
    await this.forget(app);
  }

  /** Stops driving `app`, touching nothing it ran (a deleted Canary: its objects go with it). */
  async forget(app: string): Promise<void> {
    const record = this.records.get(app);
    if (!record) return;
    clearTimeout(record.timer);
    this.records.delete(app);
    this.clocks.forget(app);
    await record.running;
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
