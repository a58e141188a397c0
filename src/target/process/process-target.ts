/**
 * The local-process target (`kind: 'process'`): each version of an app runs as N local
 * processes, each the leader of its own process group, listening on a port handed over in
 * `PORT`. Children are recorded in `<stateDir>/children.json` so a controller restarted after
 * a crash adopts them (see docs/adr/0005-process-target.md). When recovery runs, how changes
 * are serialised and how the target ends are the rules of `process-target-lifecycle.ts`.
 */
import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import { RegistryWriter, type ChildRecord, type RegistryDocument } from './child-registry.js';
import { findFreePort } from './free-port.js';
import { PortReservations } from './port-reservations.js';
import { adoptPreviousRun, openStateDir, stopPreviousRun } from './previous-run.js';
import { processStartTicks } from './process-group.js';
import { ProcessTargetLifecycle } from './process-target-lifecycle.js';
import {
  DEFAULT_LOG_LINES,
  DEFAULT_STOP_GRACE_MS,
  replicaSettingsOf,
  type ProcessTargetOptions,
} from './process-target-options.js';
import { ProcessVersion } from './process-version.js';
import { removeUnfollowedOutput } from './replica-output.js';
import type { ReplicaSettings } from './replica-host.js';
import {
  assertAppName,
  assertReplicas,
  assertVersionSpec,
  versionNotFound,
  type DesiredVersion,
  type LogLine,
  type RecoveryReport,
  type Target,
  type VersionRole,
  type VersionStatus,
} from '../target.js';
import { VersionLog } from './version-log.js';
import { identifyProcess, processWithReplicas, type ProcessSpec } from './version-spec.js';

export type { ProcessTargetOptions } from './process-target-options.js';

/** The child registry's file name in the state directory. */
const REGISTRY_FILE = 'children.json';

/** Runs versions as local process groups. */
export class ProcessTarget implements Target<ProcessSpec> {
  readonly kind = 'process';

  /** The revision hashes what runs (version-spec.ts `revisionOf`); the replica count is the spec's. */
  identify(spec: ProcessSpec): DesiredVersion {
    return identifyProcess(spec);
  }

  /** The same command line with `replicas` processes. */
  withReplicas(spec: ProcessSpec, replicas: number): ProcessSpec {
    return processWithReplicas(spec, replicas);
  }
  readonly #stateDir: string;
  readonly #options: ProcessTargetOptions;
  readonly #versions = new Map<string, ProcessVersion>();
  readonly #ports: PortReservations;
  readonly #lifecycle: ProcessTargetLifecycle;
  #settings: ReplicaSettings | undefined;
  #instance = '';
  #writer: RegistryWriter | undefined;

  constructor(options: ProcessTargetOptions) {
    this.#options = options;
    this.#stateDir = resolve(options.stateDir);
    this.#lifecycle = new ProcessTargetLifecycle(this.#stateDir, () => this.#recoverClaimed());
    this.#ports = new PortReservations(options.allocatePort ?? findFreePort, () =>
      [...this.#versions.values()].flatMap((version) => version.ports()),
    );
  }

  /** Path of the child registry. */
  get registryPath(): string {
    return join(this.#stateDir, REGISTRY_FILE);
  }

  /**
   * Stops the processes an earlier target left running on `stateDir` (after a `kill -9` of
   * its controller), when they are provably its own, without adopting them: for a caller
   * about to delete the directory. Throws `AVIARY_TARGET_STATE_DIR_IN_USE` while that
   * controller still runs. Resolves with the process groups stopped.
   */
  static stopLeftovers(stateDir: string, stopGraceMs = DEFAULT_STOP_GRACE_MS): Promise<number[]> {
    const directory = resolve(stateDir);
    return stopPreviousRun(
      { stateDir: directory, registryPath: join(directory, REGISTRY_FILE) },
      stopGraceMs,
    );
  }

  /** Directory of the per-revision log files and of the replicas' output files. */
  get logDir(): string {
    return join(this.#stateDir, 'logs');
  }

  async ensureVersion(
    app: string,
    role: VersionRole,
    spec: ProcessSpec,
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
    await this.#lifecycle.ready(signal);
    const canary = this.#versions.get(keyOf(app, 'canary'));
    if (canary === undefined) throw versionNotFound(app, 'canary', 'promote');
    const replicas = this.#versions.get(keyOf(app, 'primary'))?.spec.replicas ?? canary.spec.replicas;
    return this.ensureVersion(app, 'primary', { ...canary.spec, replicas }, signal);
  }

  async status(app: string, role: VersionRole): Promise<VersionStatus | undefined> {
    await this.#lifecycle.ready();
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
    await this.#lifecycle.ready();
    return this.#versions.get(keyOf(app, role))?.log.lines(options.tail) ?? [];
  }

  /** Reads the registry of a previous run; adopts live children that are provably ours, stops the rest. */
  recover(signal?: AbortSignal): Promise<RecoveryReport> {
    return this.#lifecycle.recover(signal);
  }

  /**
   * Stops every version (SIGTERM to each process group, SIGKILL after the grace period;
   * aborting `signal` kills at once) and records that nothing is left to recover. A call
   * while a close is under way joins it (and its `signal` can hurry it): it resolves only
   * when every process is gone, so a Ctrl-C handler may call it again safely.
   */
  close(signal?: AbortSignal): Promise<void> {
    return this.#lifecycle.close(signal, async (hurry) => {
      const versions = [...this.#versions.values()];
      this.#versions.clear();
      await Promise.all(versions.map((version) => version.stopAll(hurry)));
      // Flushed once they are gone: the registry records nothing left to recover.
      await this.#writer?.flush();
    });
  }

  /**
   * Stops supervising but leaves every process running and recorded, as a controller crash
   * would, so that another instance on the same state directory can adopt them (a hand-over).
   */
  release(): Promise<void> {
    return this.#lifecycle.release(async () => {
      const versions = [...this.#versions.values()];
      // Flushed first: the registry keeps every process for the instance that adopts them.
      await this.#writer?.flush();
      await Promise.all(versions.map((version) => version.release()));
      this.#versions.clear();
    });
  }

  async #recoverClaimed(): Promise<RecoveryReport> {
    const { registryPath, logDir } = this;
    const previous = await openStateDir({ stateDir: this.#stateDir, registryPath, logDir });
    this.#instance = previous?.instance ?? randomUUID();
    this.#settings = replicaSettingsOf(this.#options, this.#instance, logDir);
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
    const report = await adoptPreviousRun(
      previous,
      (app, role, spec) => this.#createVersion(app, role, spec),
      this.#settings.stopGraceMs,
    );
    const followed = [...this.#versions.values()].flatMap((version) => version.outputPaths());
    await removeUnfollowedOutput(logDir, new Set(followed));
    await this.#writer.flush();
    return report;
  }

  #createVersion(app: string, role: VersionRole, spec: ProcessSpec): ProcessVersion {
    const settings = this.#settings;
    if (settings === undefined) throw new Error('ProcessTarget used before recover()');
    const log = new VersionLog({
      logDir: this.logDir,
      app,
      role,
      capacity: this.#options.logLines ?? DEFAULT_LOG_LINES,
      now: settings.now,
    });
    const host = {
      settings,
      allocatePort: () => this.#ports.allocate(),
      changed: () => this.#writer?.schedule(),
      retiring: (endpoint: string) => this.#options.onRetiring?.(app, role, endpoint) ?? Promise.resolve(),
    };
    const version = new ProcessVersion(host, app, role, spec, log);
    this.#versions.set(keyOf(app, role), version);
    return version;
  }

  #snapshot(owner: RegistryDocument['owner']): RegistryDocument {
    const versions = [...this.#versions.values()];
    const children: ChildRecord[] = versions.flatMap((version) => version.records());
    const specs = versions.map((version) => ({ app: version.app, role: version.role, spec: version.spec }));
    return { format: 1, instance: this.#instance, owner, versions: specs, children };
  }

  /** Runs `body` after recovery, serialised with other changes to the same version; then saves the registry. */
  async #mutate<T>(
    app: string,
    role: VersionRole,
    signal: AbortSignal | undefined,
    body: () => Promise<T>,
  ): Promise<T> {
    const result = await this.#lifecycle.change(keyOf(app, role), signal, body);
    await this.#writer?.flush();
    return result;
  }
}

function keyOf(app: string, role: VersionRole): string {
  return `${app}/${role}`;
}
