/**
 * A target with no processes: versions are records whose readiness the test or the bench
 * sets. It lets the controller benchmark run thousands of ticks without spawning anything,
 * and it passes the same conformance suite as the real targets.
 */
import { TargetError } from '../../src/target/target-error.js';
import {
  assertAppName,
  assertReplicas,
  assertVersionSpec,
  readyPercentOf,
  versionNotFound,
  type DesiredVersion,
  type LogLine,
  type RecoveryReport,
  type Target,
  type VersionRole,
  type VersionStatus,
} from '../../src/target/target.js';
import {
  identifyProcess,
  processWithReplicas,
  revisionOf,
  type ProcessSpec,
} from '../../src/target/process/version-spec.js';

/** How a newly applied revision behaves: all replicas ready at once, none ready, or failing to start. */
export type SimulatedReadiness = 'ready' | 'unready' | 'failing';

/** Options of {@link InMemoryTarget}. */
export interface InMemoryTargetOptions {
  /** Readiness of a revision when it is applied. Default: every replica ready at once. */
  readonly initialReadiness?: (app: string, role: VersionRole, spec: ProcessSpec) => SimulatedReadiness;
  /** Clock for log timestamps. Default `Date.now`. */
  readonly now?: () => number;
  /** Lines kept per version. Default 1000. */
  readonly logLines?: number;
}

interface MemoryVersion {
  spec: ProcessSpec;
  revision: string;
  desired: number;
  ready: number;
  restarts: number;
  lastError: string | null;
  logs: LogLine[];
  /** The status last reported, handed out again while nothing it shows has changed. */
  reported?: VersionStatus;
}

/** True when `status` still shows `version` as it is now. */
function stillShows(status: VersionStatus, version: MemoryVersion): boolean {
  return (
    status.revision === version.revision &&
    status.desiredReplicas === version.desired &&
    status.readyReplicas === version.ready &&
    status.restarts === version.restarts &&
    status.lastError === version.lastError
  );
}

/** First synthetic port; endpoints are unique per replica but nothing listens on them. */
const FIRST_SYNTHETIC_PORT = 20_000;

/** The in-memory target (`kind: 'in-memory'`). Endpoints are synthetic: nothing listens on them. */
export class InMemoryTarget implements Target<ProcessSpec> {
  readonly kind = 'in-memory';

  /** As the process target: the revision hashes the command line, replicas are the spec's. */
  identify(spec: ProcessSpec): DesiredVersion {
    return identifyProcess(spec);
  }

  /** The same command line with `replicas` processes. */
  withReplicas(spec: ProcessSpec, replicas: number): ProcessSpec {
    return processWithReplicas(spec, replicas);
  }
  readonly #versions = new Map<string, MemoryVersion>();
  readonly #ports = new Map<string, number>();
  readonly #initialReadiness: NonNullable<InMemoryTargetOptions['initialReadiness']>;
  readonly #now: () => number;
  readonly #logLines: number;
  #closed = false;

  constructor(options: InMemoryTargetOptions = {}) {
    this.#initialReadiness = options.initialReadiness ?? (() => 'ready');
    this.#now = options.now ?? Date.now;
    this.#logLines = options.logLines ?? 1000;
  }

  /** Sets how many of the version's desired replicas are ready (clamped to the desired count). */
  setReady(app: string, role: VersionRole, readyReplicas: number): void {
    const version = this.#get(app, role, 'set readiness');
    version.ready = Math.max(0, Math.min(version.desired, readyReplicas));
  }

  /** Simulates every replica crashing once: none ready, restarts grow, `lastError` set. */
  crash(app: string, role: VersionRole, message = 'simulated crash'): void {
    const version = this.#get(app, role, 'crash');
    version.ready = 0;
    version.restarts += version.desired;
    version.lastError = message;
    this.#log(version, `all replicas crashed: ${message}`);
  }

  ensureVersion(
    app: string,
    role: VersionRole,
    spec: ProcessSpec,
    signal?: AbortSignal,
  ): Promise<VersionStatus> {
    return settle(() => this.#ensure(app, role, spec, signal));
  }

  #ensure(app: string, role: VersionRole, spec: ProcessSpec, signal?: AbortSignal): VersionStatus {
    signal?.throwIfAborted();
    this.#assertOpen();
    assertVersionSpec(app, role, spec);
    const revision = revisionOf(spec);
    const key = keyOf(app, role);
    const existing = this.#versions.get(key);
    if (existing !== undefined && existing.revision === revision) {
      existing.spec = spec;
      this.#resize(existing, spec.replicas);
      return this.#statusOf(app, role, existing);
    }
    const readiness = this.#initialReadiness(app, role, spec);
    const version: MemoryVersion = {
      spec,
      revision,
      desired: spec.replicas,
      ready: readiness === 'ready' ? spec.replicas : 0,
      restarts: 0,
      lastError: readiness === 'failing' ? 'replicas fail to start (simulated)' : null,
      logs: existing?.logs ?? [],
    };
    this.#versions.set(key, version);
    for (let replica = 0; replica < spec.replicas; replica++)
      this.#log(version, 'started (simulated)', replica);
    return this.#statusOf(app, role, version);
  }

  scale(app: string, role: VersionRole, replicas: number, signal?: AbortSignal): Promise<VersionStatus> {
    return settle(() => {
      signal?.throwIfAborted();
      this.#assertOpen();
      assertReplicas(app, role, replicas);
      const version = this.#get(app, role, 'scale');
      this.#resize(version, replicas);
      return this.#statusOf(app, role, version);
    });
  }

  promote(app: string, signal?: AbortSignal): Promise<VersionStatus> {
    return settle(() => {
      signal?.throwIfAborted();
      this.#assertOpen();
      const canary = this.#get(app, 'canary', 'promote');
      const primary = this.#versions.get(keyOf(app, 'primary'));
      const replicas = primary?.desired ?? canary.desired;
      return this.#ensure(app, 'primary', { ...canary.spec, replicas }, signal);
    });
  }

  status(app: string, role: VersionRole): Promise<VersionStatus | undefined> {
    const version = this.#versions.get(keyOf(app, role));
    return Promise.resolve(version === undefined ? undefined : this.#statusOf(app, role, version));
  }

  stop(app: string, role: VersionRole, signal?: AbortSignal): Promise<void> {
    return settle(() => {
      signal?.throwIfAborted();
      this.#assertOpen();
      assertAppName(app);
      this.#versions.delete(keyOf(app, role));
    });
  }

  logs(app: string, role: VersionRole, options: { tail?: number } = {}): Promise<readonly LogLine[]> {
    const lines = this.#versions.get(keyOf(app, role))?.logs ?? [];
    const { tail } = options;
    return Promise.resolve(tail === undefined ? [...lines] : tail <= 0 ? [] : lines.slice(-tail));
  }

  recover(signal?: AbortSignal): Promise<RecoveryReport> {
    return settle(() => {
      signal?.throwIfAborted();
      return { adopted: [], discarded: [] };
    });
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#versions.clear();
    return Promise.resolve();
  }

  #resize(version: MemoryVersion, replicas: number): void {
    const allReady = version.ready === version.desired && version.lastError === null;
    const previous = version.desired;
    version.desired = replicas;
    version.ready = allReady ? replicas : Math.min(version.ready, replicas);
    version.spec = { ...version.spec, replicas };
    for (let replica = previous; replica < replicas; replica++)
      this.#log(version, 'started (simulated)', replica);
  }

  /**
   * The version's status. A controller asks for it several times per tick of every app, so an
   * unchanged one is reported again (frozen) instead of built anew.
   */
  #statusOf(app: string, role: VersionRole, version: MemoryVersion): VersionStatus {
    if (version.reported && stillShows(version.reported, version)) return version.reported;
    const replicas = Array.from({ length: version.desired }, (_, replica) => {
      const ready = replica < version.ready;
      const endpoint = `127.0.0.1:${this.#portOf(app, role, version.revision, replica)}`;
      return {
        replica,
        revision: version.revision,
        phase: ready ? ('running' as const) : ('starting' as const),
        pid: null,
        endpoint,
        ready,
        restarts: 0,
        adopted: false,
      };
    });
    version.reported = Object.freeze({
      app,
      role,
      revision: version.revision,
      desiredReplicas: version.desired,
      readyReplicas: version.ready,
      readyPercent: readyPercentOf(version.ready, version.desired),
      endpoints: Object.freeze(replicas.filter((r) => r.ready).map((r) => r.endpoint)),
      restarts: version.restarts,
      lastError: version.lastError,
      replicas: Object.freeze(replicas.map((replica) => Object.freeze(replica))),
    });
    return version.reported;
  }

  #portOf(app: string, role: VersionRole, revision: string, replica: number): number {
    const key = `${app}/${role}/${revision}/${replica}`;
    let port = this.#ports.get(key);
    if (port === undefined) {
      port = FIRST_SYNTHETIC_PORT + this.#ports.size;
      this.#ports.set(key, port);
    }
    return port;
  }

  #log(version: MemoryVersion, text: string, replica = 0): void {
    version.logs.push({ at: this.#now(), replica, revision: version.revision, stream: 'aviary', text });
    if (version.logs.length > this.#logLines) version.logs.splice(0, version.logs.length - this.#logLines);
  }

  #get(app: string, role: VersionRole, action: string): MemoryVersion {
    assertAppName(app);
    const version = this.#versions.get(keyOf(app, role));
    if (version === undefined) throw versionNotFound(app, role, action);
    return version;
  }

  #assertOpen(): void {
    if (this.#closed) throw new TargetError('AVIARY_TARGET_CLOSED', 'in-memory target is closed');
  }
}

/** Runs a synchronous body so that a throw becomes a rejection, as callers of an async interface expect. */
function settle<T>(body: () => T): Promise<T> {
  return new Promise((resolve) => resolve(body()));
}

function keyOf(app: string, role: VersionRole): string {
  return `${app}/${role}`;
}
