/**
 * Supervisor of one replica: a local process that leads its own process group. It hands the
 * process a free port through `PORT`, probes it, restarts it with backoff when it exits or
 * fails liveness, and stops the whole group. A replica found by `recover()` is adopted: it is
 * not our child, so its exit is noticed by polling `/proc` instead of a `exit` event. Its
 * output goes to files rather than pipes (`replica-output.ts`), so it outlives a crashed
 * controller and an adopting one follows it on.
 */
import type { ChildRecord } from './child-registry.js';
import { ProbeTracker, type ProbePlan } from '../probe.js';
import { processStartTicks, signalGroup, terminateGroup, waitForExit } from './process-group.js';
import type { ReplicaHost } from './replica-host.js';
import { launchReplica } from './replica-launch.js';
import { ReplicaOutput, type ChildOutputDescriptors } from './replica-output.js';
import { startReplicaProbes } from './replica-probes.js';
import { ReplicaRestartPolicy } from './replica-restart-policy.js';
import type { ReplicaPhase, ReplicaStatus } from '../target.js';
import type { ProcessSpec } from './version-spec.js';

/** One supervised process. */
export class ProcessReplica {
  #phase: ReplicaPhase | 'stopped' = 'starting';
  #pid: number | null = null;
  #port: number | null = null;
  #startedAt = 0;
  #startTicks: string | null = null;
  #adopted = false;
  #run = 0;
  #runControl = new AbortController();
  #readiness: ProbeTracker;
  #livenessFailure: string | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  readonly #restartPolicy: ReplicaRestartPolicy;
  readonly #output: ReplicaOutput;

  constructor(
    private readonly host: ReplicaHost<ProcessReplica>,
    readonly revision: string,
    readonly replica: number,
    private spec: ProcessSpec,
    private readinessPlan: ProbePlan,
    private livenessPlan: ProbePlan | undefined,
  ) {
    this.#restartPolicy = new ReplicaRestartPolicy(host.settings.backoff);
    this.#readiness = new ProbeTracker(readinessPlan, false);
    const { settings } = host;
    this.#output = new ReplicaOutput({
      logDir: settings.logDir,
      app: host.app,
      role: host.role,
      revision,
      replica,
      log: host.log,
      pollMs: settings.outputPollMs,
      maxFileBytes: settings.maxOutputFileBytes,
      onAddressInUse: () => this.#restartPolicy.addressInUse(),
    });
  }

  get ready(): boolean {
    const live = this.#phase === 'starting' || this.#phase === 'running';
    return live && this.#pid !== null && this.#readiness.healthy;
  }

  get phase(): ReplicaPhase | 'stopped' {
    return this.#phase;
  }

  get port(): number | null {
    return this.#port;
  }

  /** Paths of the stdout and stderr files of this replica's process. */
  get outputPaths(): readonly string[] {
    return this.#output.paths;
  }

  /** Uses new probes (same revision, so the process itself is unchanged). */
  updateProbes(spec: ProcessSpec, readiness: ProbePlan, liveness: ProbePlan | undefined): void {
    this.spec = spec;
    this.readinessPlan = readiness;
    this.livenessPlan = liveness;
  }

  /** Starts the process; resolves once it is spawned (or its failure is scheduled for a restart). */
  async start(): Promise<void> {
    this.#phase = 'starting';
    let port: number;
    try {
      port = await this.host.allocatePort();
    } catch (error) {
      this.#failed(`no free port: ${(error as Error).message}`, 0);
      return;
    }
    if (this.#phase !== 'starting') return;
    this.#launch(port);
  }

  /** Supervises a process a previous controller started (see `recover()`). */
  adopt(record: ChildRecord): void {
    this.#adopted = true;
    this.#pid = record.pid;
    this.#port = record.port;
    this.#startedAt = record.startedAt;
    this.#startTicks = record.startTicks;
    this.#phase = 'starting';
    const run = this.#beginRun();
    this.#output.follow();
    this.#note(`adopted pid ${record.pid} on port ${record.port}; following its output from here on`);
    this.#watchAdopted(run, record.pid, this.#runControl.signal);
  }

  /** Stops the process group: SIGTERM, grace period, SIGKILL. Aborting `signal` kills at once. */
  async stop(signal?: AbortSignal): Promise<void> {
    if (this.#phase === 'stopped') return;
    this.#phase = 'stopping';
    this.#cancelRun();
    this.host.replicaChanged(this);
    const pid = this.#pid;
    if (pid !== null) {
      const gone = await terminateGroup(pid, this.host.settings.stopGraceMs, signal);
      this.#note(gone ? `stopped pid ${pid}` : `pid ${pid} survived SIGKILL`);
    }
    this.#output.close({ remove: true });
    this.#pid = null;
    this.#phase = 'stopped';
    this.host.replicaChanged(this);
  }

  /** Stops supervising without touching the process, which a later instance may adopt. */
  release(): void {
    this.#cancelRun();
    this.#output.close({ remove: false });
    this.#phase = 'stopped';
  }

  /** The registry entry of the running process, if any. */
  record(): ChildRecord | undefined {
    if (this.#pid === null || this.#port === null || this.#phase === 'stopped') return undefined;
    const { app, role } = this.host;
    return {
      pid: this.#pid,
      pgid: this.#pid,
      port: this.#port,
      app,
      role,
      revision: this.revision,
      replica: this.replica,
      startedAt: this.#startedAt,
      startTicks: this.#startTicks,
    };
  }

  status(): ReplicaStatus {
    const phase = this.#phase === 'stopped' ? 'stopping' : this.#phase;
    const endpoint = this.#pid !== null && this.#port !== null ? `127.0.0.1:${this.#port}` : null;
    return {
      replica: this.replica,
      revision: this.revision,
      phase,
      pid: this.#pid,
      endpoint,
      ready: this.ready,
      restarts: this.#restartPolicy.restarts,
      adopted: this.#adopted,
    };
  }

  #launch(port: number): void {
    const run = this.#beginRun();
    this.#port = port;
    this.#restartPolicy.spawned();
    this.#startedAt = this.host.settings.now();
    const { app, role, settings } = this.host;
    const { revision, replica } = this;
    let output: ChildOutputDescriptors;
    try {
      output = this.#output.openForChild();
    } catch (error) {
      this.#failed(`cannot open its output files: ${(error as Error).message}`, 0);
      return;
    }
    const child = launchReplica({
      spec: this.spec,
      identity: { app, role, revision, replica, instance: settings.instance, port },
      inheritEnv: settings.inheritEnv,
      output,
      onExit: (how) => this.#exited(run, how),
    });
    if (child.pid === undefined) return;
    this.#pid = child.pid;
    this.#note(`started pid ${child.pid} on port ${port}`);
    void processStartTicks(child.pid).then((ticks) => {
      if (run === this.#run) this.#startTicks = ticks;
      this.host.replicaChanged(this);
    });
    this.host.replicaChanged(this);
    this.#startProbes(run, this.#runControl.signal);
  }

  #startProbes(run: number, signal: AbortSignal): void {
    startReplicaProbes(
      {
        port: () => (run === this.#run ? this.#port : null),
        readinessPlan: () => this.readinessPlan,
        livenessPlan: () => this.livenessPlan,
        readinessResult: (ok) => {
          if (this.#readiness.record(ok)) this.#readinessChanged();
        },
        livenessFailed: (plan) => this.#livenessFailed(plan),
      },
      signal,
    );
  }

  #readinessChanged(): void {
    const ready = this.#readiness.healthy;
    if (ready) {
      this.#restartPolicy.becameReady();
      this.#phase = 'running';
    }
    this.#note(ready ? 'ready' : 'not ready: readiness probe failing');
    this.host.replicaChanged(this);
  }

  #livenessFailed(plan: ProbePlan): void {
    const pid = this.#pid;
    if (pid === null) return;
    this.#livenessFailure = `liveness probe failed ${plan.failureThreshold} times`;
    this.#note(`${this.#livenessFailure}; restarting`);
    // The exit (event or poll) restarts the replica and reports why it died.
    void terminateGroup(pid, this.host.settings.stopGraceMs);
  }

  #watchAdopted(run: number, pid: number, signal: AbortSignal): void {
    this.#startProbes(run, signal);
    void waitForExit(pid, this.host.settings.adoptedPollMs, signal).then((exited) => {
      if (exited) this.#exited(run, 'exited (adopted process, status unknown)');
    });
  }

  #exited(run: number, how: string): void {
    if (run !== this.#run || this.#phase === 'stopping' || this.#phase === 'stopped') return;
    const runMs = this.host.settings.now() - this.#startedAt;
    const pid = this.#pid;
    // Its last lines first: an EADDRINUSE among them makes this exit a port race.
    this.#output.drain();
    this.#cancelRun();
    // Grandchildren may still hold the port; the group goes with its leader.
    if (pid !== null) signalGroup(pid, 'SIGKILL');
    this.#pid = null;
    this.#adopted = false;
    if (this.#restartPolicy.takePortRetry()) {
      this.#note(`port ${this.#port ?? '?'} was taken before the process bound it; retrying on a new port`);
      void this.start();
      return;
    }
    const why = this.#livenessFailure ?? `pid ${pid ?? '?'} ${how}`;
    this.#livenessFailure = undefined;
    this.#failed(why, runMs);
  }

  #failed(why: string, runMs: number): void {
    const delay = this.#restartPolicy.crashed(runMs);
    this.#phase = 'backoff';
    this.#restartTimer = setTimeout(() => void this.start(), delay);
    const message = `replica ${this.replica}: ${why} after ${runMs} ms; restarting in ${delay} ms`;
    this.#note(message);
    // The host may stop this replica from either callback, which cancels the restart above.
    this.host.replicaFailed(this, message);
    this.host.replicaChanged(this);
  }

  #note(text: string): void {
    this.host.log.write(this.replica, this.revision, 'aviary', text);
  }

  #beginRun(): number {
    this.#cancelRun();
    this.#runControl = new AbortController();
    this.#readiness = new ProbeTracker(this.readinessPlan, false);
    this.#restartPolicy.runBegan();
    return ++this.#run;
  }

  #cancelRun(): void {
    this.#run += 1;
    this.#runControl.abort();
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
  }
}
