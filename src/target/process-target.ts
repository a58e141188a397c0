/**
 * The local-process target (`kind: 'process'`): each version of an app runs as N local
 * processes, each the leader of its own process group, listening on a port handed over in
 * `PORT`. Children are recorded in `<stateDir>/children.json` so a controller restarted after
 * a crash adopts them (see docs/adr/0005-process-target.md).
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readRegistry, RegistryWriter, type ChildRecord, type RegistryDocument } from './child-registry.js';
import { findFreePort } from './free-port.js';
import { processStartTicks, terminateGroup } from './process-group.js';
import { assertOwnerGone, planRecovery, stateDirInUse } from './process-recovery.js';
import type { ReplicaSettings } from './process-replica.js';
import { ProcessVersion } from './process-version.js';
import { DEFAULT_INHERITED_ENV } from './replica-environment.js';
import type { RestartBackoffOptions } from './restart-backoff.js';
import { TargetError } from './target-error.js';
import {
  assertAppName,
  assertReplicas,
  assertVersionSpec,
  versionNotFound,
  type LogLine,
  type RecoveryReport,
  type Target,
  type VersionRole,
  type VersionStatus,
} from './target.js';
import { VersionLog } from './version-log.js';
import type { VersionSpec } from './version-spec.js';

/** Options of {@link ProcessTarget}. */
export interface ProcessTargetOptions {
  /** Holds `children.json` and `logs/`. Created when missing (mode 0700). */
  readonly stateDir: string;
  /** Lines kept in memory per version. Default 1000. */
  readonly logLines?: number;
  /** Time between SIGTERM and SIGKILL when stopping. Default 10 s. */
  readonly stopGraceMs?: number;
  /** Restart backoff. Default 200 ms doubling to 30 s, reset after 60 s of stable running. */
  readonly restartBackoff?: RestartBackoffOptions;
  /** How often an adopted process (not our child, so no exit event) is checked. Default 500 ms. */
  readonly adoptedPollMs?: number;
  /** Controller variables inherited by replicas. Default {@link DEFAULT_INHERITED_ENV}. */
  readonly inheritEnv?: readonly string[];
  /** Port finder, a seam for tests. Default: bind port 0 on 127.0.0.1. */
  readonly allocatePort?: (exclude: ReadonlySet<number>) => Promise<number>;
  /** Clock for run durations and log timestamps. Default `Date.now`. */
  readonly now?: () => number;
  /**
   * Called before a ready replica of a version that keeps running is stopped (scale-down,
   * or an old revision replaced by a ready new one). The controller takes the endpoint out
   * of the router and lets requests in flight finish before the promise resolves.
   */
  readonly onRetiring?: (app: string, role: VersionRole, endpoint: string) => Promise<void>;
}

/** State directories claimed by a live instance in this process. */
const claimedStateDirs = new Set<string>();

/** Runs versions as local process groups. */
export class ProcessTarget implements Target {
  readonly kind = 'process';
  readonly #stateDir: string;
  readonly #options: ProcessTargetOptions;
  readonly #versions = new Map<string, ProcessVersion>();
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #pendingPorts = new Set<number>();
  #settings: ReplicaSettings | undefined;
  #instance = '';
  #writer: RegistryWriter | undefined;
  #recovery: Promise<RecoveryReport> | undefined;
  #state: 'open' | 'closing' | 'closed' = 'open';
  #claimed = false;

  constructor(options: ProcessTargetOptions) {
    this.#options = options;
    this.#stateDir = resolve(options.stateDir);
  }

  /** Path of the child registry. */
  get registryPath(): string {
    return join(this.#stateDir, 'children.json');
  }

  /** Directory of the per-revision log files. */
  get logDir(): string {
    return join(this.#stateDir, 'logs');
  }

  async ensureVersion(
    app: string,
    role: VersionRole,
    spec: VersionSpec,
    signal?: AbortSignal,
  ): Promise<VersionStatus> {
    assertVersionSpec(app, role, spec);
    return this.#mutate(app, role, signal, async () => {
      const version = this.#versions.get(keyOf(app, role)) ?? this.#createVersion(app, role, spec);
      await version.apply(spec);
      return version.status();
    });
  }

  async scale(
    app: string,
    role: VersionRole,
    replicas: number,
    signal?: AbortSignal,
  ): Promise<VersionStatus> {
    assertAppName(app);
    assertReplicas(app, role, replicas);
    return this.#mutate(app, role, signal, async () => {
      const version = this.#versions.get(keyOf(app, role));
      if (version === undefined) throw versionNotFound(app, role, 'scale');
      await version.scale(replicas);
      return version.status();
    });
  }

  async promote(app: string, signal?: AbortSignal): Promise<VersionStatus> {
    assertAppName(app);
    await this.#ready(signal);
    const canary = this.#versions.get(keyOf(app, 'canary'));
    if (canary === undefined) throw versionNotFound(app, 'canary', 'promote');
    const replicas = this.#versions.get(keyOf(app, 'primary'))?.spec.replicas ?? canary.spec.replicas;
    return this.ensureVersion(app, 'primary', { ...canary.spec, replicas }, signal);
  }

  async status(app: string, role: VersionRole): Promise<VersionStatus | undefined> {
    await this.#ready();
    return this.#versions.get(keyOf(app, role))?.status();
  }

  async stop(app: string, role: VersionRole, signal?: AbortSignal): Promise<void> {
    assertAppName(app);
    await this.#mutate(app, role, signal, async () => {
      const version = this.#versions.get(keyOf(app, role));
      if (version === undefined) return;
      this.#versions.delete(keyOf(app, role));
      await version.stopAll(signal);
    });
  }

  async logs(app: string, role: VersionRole, options: { tail?: number } = {}): Promise<readonly LogLine[]> {
    await this.#ready();
    return this.#versions.get(keyOf(app, role))?.log.lines(options.tail) ?? [];
  }

  /** Reads the registry of a previous run; adopts live children that are provably ours, stops the rest. */
  recover(signal?: AbortSignal): Promise<RecoveryReport> {
    if (signal?.aborted === true) return Promise.reject(signal.reason as Error);
    if (this.#recovery === undefined && this.#state !== 'open') return Promise.reject(this.#closedError());
    this.#recovery ??= this.#recover();
    return this.#recovery;
  }

  /**
   * Stops every version (SIGTERM to each process group, SIGKILL after the grace period;
   * aborting `signal` kills at once) and records that nothing is left to recover.
   */
  async close(signal?: AbortSignal): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'closing';
    await this.#recovery?.catch(() => undefined);
    await Promise.allSettled(this.#locks.values());
    const versions = [...this.#versions.values()];
    this.#versions.clear();
    await Promise.all(versions.map((version) => version.stopAll(signal)));
    await this.#writer?.flush();
    this.#state = 'closed';
    this.#unclaim();
  }

  /**
   * Stops supervising but leaves every process running and recorded, as a controller crash
   * would, so that another instance on the same state directory can adopt them (a hand-over).
   */
  async release(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'closing';
    await this.#recovery?.catch(() => undefined);
    await Promise.allSettled(this.#locks.values());
    await this.#writer?.flush();
    await Promise.all([...this.#versions.values()].map((version) => version.release()));
    this.#versions.clear();
    this.#state = 'closed';
    this.#unclaim();
  }

  async #recover(): Promise<RecoveryReport> {
    // Claimed before the first await, so two instances in one process cannot both pass the check.
    if (claimedStateDirs.has(this.#stateDir)) throw stateDirInUse(this.#stateDir, process.pid);
    claimedStateDirs.add(this.#stateDir);
    this.#claimed = true;
    try {
      return await this.#recoverClaimed();
    } catch (error) {
      this.#unclaim();
      throw error;
    }
  }

  async #recoverClaimed(): Promise<RecoveryReport> {
    await mkdir(this.logDir, { recursive: true, mode: 0o700 });
    const previous = await readRegistry(this.registryPath);
    if (previous !== undefined) await assertOwnerGone(previous, this.#stateDir);
    this.#instance = previous?.instance ?? randomUUID();
    this.#settings = this.#settingsFor(this.#instance);
    const owner = { pid: process.pid, startTicks: await processStartTicks(process.pid) };
    this.#writer = new RegistryWriter(
      this.registryPath,
      () => this.#snapshot(owner),
      (error) => console.error(`aviary: cannot write ${this.registryPath}: ${String(error)}`),
    );
    if (previous === undefined) {
      await this.#writer.flush();
      return { adopted: [], discarded: [] };
    }
    const plan = await planRecovery(previous);
    for (const version of previous.versions) {
      const records = plan.adopt.filter((r) => r.app === version.app && r.role === version.role);
      await this.#createVersion(version.app, version.role, version.spec).adopt(records);
    }
    const grace = this.#settings.stopGraceMs;
    await Promise.all(plan.terminate.map((pid) => terminateGroup(pid, grace)));
    await this.#writer.flush();
    const adopted = plan.adopt.map(({ app, role, replica, pid }) => ({ app, role, replica, pid }));
    return { adopted, discarded: plan.discarded };
  }

  #unclaim(): void {
    if (this.#claimed) claimedStateDirs.delete(this.#stateDir);
    this.#claimed = false;
  }

  #closedError(): TargetError {
    return new TargetError('AVIARY_TARGET_CLOSED', `process target in ${this.#stateDir} is closed`);
  }

  #settingsFor(instance: string): ReplicaSettings {
    const options = this.#options;
    return {
      instance,
      inheritEnv: options.inheritEnv ?? DEFAULT_INHERITED_ENV,
      backoff: options.restartBackoff ?? {},
      stopGraceMs: options.stopGraceMs ?? 10_000,
      adoptedPollMs: options.adoptedPollMs ?? 500,
      now: options.now ?? Date.now,
    };
  }

  #createVersion(app: string, role: VersionRole, spec: VersionSpec): ProcessVersion {
    const settings = this.#settings;
    if (settings === undefined) throw new Error('ProcessTarget used before recover()');
    const log = new VersionLog({
      logDir: this.logDir,
      app,
      role,
      capacity: this.#options.logLines ?? 1000,
      now: settings.now,
    });
    const host = {
      settings,
      allocatePort: () => this.#allocatePort(),
      changed: () => this.#writer?.schedule(),
      retiring: (endpoint: string) => this.#options.onRetiring?.(app, role, endpoint) ?? Promise.resolve(),
    };
    const version = new ProcessVersion(host, app, role, spec, log);
    this.#versions.set(keyOf(app, role), version);
    return version;
  }

  async #allocatePort(): Promise<number> {
    const inUse = new Set([...this.#pendingPorts, ...[...this.#versions.values()].flatMap((v) => v.ports())]);
    const port = await (this.#options.allocatePort ?? findFreePort)(inUse);
    // Held until the replica records it, so two concurrent starts never get the same port.
    this.#pendingPorts.add(port);
    setTimeout(() => this.#pendingPorts.delete(port), 1_000).unref();
    return port;
  }

  #snapshot(owner: RegistryDocument['owner']): RegistryDocument {
    const versions = [...this.#versions.values()];
    const children: ChildRecord[] = versions.flatMap((version) => version.records());
    const specs = versions.map((version) => ({ app: version.app, role: version.role, spec: version.spec }));
    return { format: 1, instance: this.#instance, owner, versions: specs, children };
  }

  async #ready(signal?: AbortSignal): Promise<void> {
    await this.recover(signal);
    if (this.#state !== 'open') throw this.#closedError();
  }

  /** Runs `body` after recovery, serialised with other changes to the same version. */
  async #mutate<T>(
    app: string,
    role: VersionRole,
    signal: AbortSignal | undefined,
    body: () => Promise<T>,
  ): Promise<T> {
    signal?.throwIfAborted();
    await this.#ready(signal);
    const key = keyOf(app, role);
    const previous = this.#locks.get(key) ?? Promise.resolve();
    const run = previous
      .catch(() => undefined)
      .then(() => {
        signal?.throwIfAborted();
        if (this.#state !== 'open') throw this.#closedError();
        return body();
      });
    this.#locks.set(key, run);
    try {
      const result = await run;
      await this.#writer?.flush();
      return result;
    } finally {
      if (this.#locks.get(key) === run) this.#locks.delete(key);
    }
  }
}

function keyOf(app: string, role: VersionRole): string {
  return `${app}/${role}`;
}
