/**
 * Runs the fleet through the real `RolloutController` against the in-memory target and
 * router, with no webhook and a metric observer that always passes: every app is
 * initialised at v1, then gets v2 and is rolled out to Succeeded, then left to tick idle
 * for a while. Collects, per tick, the controller's own tick duration and the CPU used by
 * the tick, the latency of each tick including its persisted write, and the peak RSS.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RolloutEventRecord } from '../../src/rollout/controller/action-executor.js';
import { RolloutController, type RolloutView } from '../../src/rollout/controller/controller.js';
import { GateStore } from '../../src/rollout/webhooks/gates.js';
import { journalGenerations } from '../../src/rollout/state/state-journal-read.js';
import type { RolloutPhase } from '../../src/rollout/step/rollout-status.js';
import { WebhookClient } from '../../src/rollout/webhooks/webhook-client.js';
import { InMemoryRouter } from '../../test/fakes/in-memory-router.js';
import { InMemoryTarget } from '../../test/fakes/in-memory-target.js';
import { fleetApps, type FleetOptions } from './fleet.js';
import { PassingObserver } from './passing-observer.js';
import { installTickProbe, SampleLog, type TickSample } from './tick-probe.js';

/** Options of {@link runFleet}. */
export interface RunOptions extends Omit<FleetOptions, 'stateDir'> {
  /** Directory the temporary state directory is created in (its file system decides what fsync costs). */
  readonly stateRoot: string;
  /** Whole-run budget; the run stops at this point even if rollouts are unfinished. */
  readonly budgetMs: number;
  /** How long to keep the settled fleet ticking after the last rollout, to measure idle cost. */
  readonly idleMs: number;
  /** Journal size at which the state journal is sealed and folded into snapshots. */
  readonly compactAtBytes: number;
}

/** The stages of the run; each tick is counted in the stage it started in. */
const STAGES = ['initialise', 'rollout', 'idle'] as const;
export type Stage = (typeof STAGES)[number];

/** What one run measured. */
export interface FleetRun {
  readonly rollouts: number;
  readonly samples: readonly (TickSample & { readonly stage: Stage })[];
  /** Process CPU (user + system) from start to the last Succeeded, ms; persistence and the fs thread pool included. */
  readonly processCpuMs: number;
  /** Process CPU during the idle stage, ms. */
  readonly idleCpuMs: number;
  readonly rssPeakBytes: number;
  /** RSS once the fleet is built, before the controller starts: the runtime, modules and specs. */
  readonly rssBeforeStartBytes: number;
  /** Largest V8 heap seen (`heapTotal`) and the heap in use at that moment. */
  readonly heapPeak: { readonly totalBytes: number; readonly usedBytes: number };
  readonly succeeded: number;
  /** Apps per phase at the end. */
  readonly phases: Readonly<Partial<Record<RolloutPhase, number>>>;
  readonly stageSeconds: Readonly<Record<Stage, number>>;
  /** Seconds from start to the last Succeeded. */
  readonly durationSeconds: number;
  /** `Error` events (a tick that failed); 0 in a sound run. */
  readonly errors: number;
  readonly firstError: string | undefined;
  readonly observerQueries: number;
  /** Tick count and seconds as the controller's `/metrics` exposition reports them. */
  readonly exported: { readonly ticks: number; readonly seconds: number };
  /** State journals sealed and folded into snapshots during the run (the generation reached, less one). */
  readonly journalsFolded: number;
}

/** Sums `aviary_rollout_tick_seconds_{sum,count}` over every app of a Prometheus exposition. */
function exportedTicks(text: string): { ticks: number; seconds: number } {
  let ticks = 0;
  let seconds = 0;
  for (const line of text.split('\n')) {
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith('aviary_rollout_tick_seconds_sum{')) seconds += value;
    else if (line.startsWith('aviary_rollout_tick_seconds_count{')) ticks += value;
  }
  return { ticks, seconds };
}

/** Polls `done` every 50 ms until it holds or `deadline` (epoch ms) passes; true when it held. */
async function waitFor(done: () => boolean, deadline: number): Promise<boolean> {
  while (!done()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** Runs the fleet once; removes its state directory afterwards. */
export async function runFleet(options: RunOptions): Promise<FleetRun> {
  const stateDir = await mkdtemp(join(options.stateRoot, 'aviary-bench-controller-'));
  const fleet = { ...options, stateDir };
  const v1 = fleetApps(fleet, '1');
  const v2 = fleetApps(fleet, '2');
  const gates = new GateStore();
  const webhooks = new WebhookClient({ gates });
  const observer = new PassingObserver();
  const controller = new RolloutController({
    stateDir,
    executor: {
      target: new InMemoryTarget(),
      router: new InMemoryRouter(),
      webhooks,
      alerts: () => undefined,
      namespace: 'bench',
    },
    checks: { webhooks, observer },
    gates,
    compactStateAtBytes: options.compactAtBytes,
  });

  const phases = new Map<string, RolloutPhase>();
  controller.on('status', (view: RolloutView) => {
    if (view.status) phases.set(view.app, view.status.phase);
  });
  let errors = 0;
  let firstError: string | undefined;
  controller.on('event', (event: RolloutEventRecord) => {
    if (event.reason !== 'Error') return;
    errors++;
    firstError ??= `${event.app}: ${event.message}`;
  });
  const countIn = (phase: RolloutPhase): number => [...phases.values()].filter((p) => p === phase).length;

  let stage: Stage = 'initialise';
  const log = new SampleLog();
  installTickProbe(controller, (tickMs, cpuMs, latencyMs) =>
    log.push(tickMs, cpuMs, latencyMs, STAGES.indexOf(stage)),
  );

  const rssBeforeStart = process.memoryUsage().rss;
  let rssPeak = rssBeforeStart;
  const heapPeak = { totalBytes: 0, usedBytes: 0 };
  const rssSampler = setInterval(() => {
    const memory = process.memoryUsage();
    rssPeak = Math.max(rssPeak, memory.rss);
    if (memory.heapTotal > heapPeak.totalBytes) {
      heapPeak.totalBytes = memory.heapTotal;
      heapPeak.usedBytes = memory.heapUsed;
    }
  }, 100);

  const cpuStart = process.cpuUsage();
  const started = performance.now();
  const deadline = Date.now() + options.budgetMs;
  try {
    await controller.start(v1);
    await waitFor(() => countIn('Initialized') === options.count, deadline);
    const initialised = performance.now();
    stage = 'rollout';
    controller.updateApps(v2);
    await waitFor(() => countIn('Succeeded') === options.count, deadline);
    const finished = performance.now();
    const cpu = process.cpuUsage(cpuStart);
    stage = 'idle';
    await new Promise((resolve) => setTimeout(resolve, options.idleMs));
    const idleCpu = process.cpuUsage(cpuStart);
    await controller.stop();
    const generations = await journalGenerations(join(stateDir, 'rollouts'));
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
    const phaseCounts: Partial<Record<RolloutPhase, number>> = {};
    for (const phase of phases.values()) phaseCounts[phase] = (phaseCounts[phase] ?? 0) + 1;
    return {
      rollouts: options.count,
      samples: log.toArray(STAGES),
      processCpuMs: (cpu.user + cpu.system) / 1000,
      idleCpuMs: (idleCpu.user + idleCpu.system - cpu.user - cpu.system) / 1000,
      rssPeakBytes: rssPeak,
      rssBeforeStartBytes: rssBeforeStart,
      heapPeak,
      succeeded: countIn('Succeeded'),
      phases: phaseCounts,
      stageSeconds: {
        initialise: (initialised - started) / 1000,
        rollout: (finished - initialised) / 1000,
        idle: options.idleMs / 1000,
      },
      durationSeconds: (finished - started) / 1000,
      errors,
      firstError,
      observerQueries: observer.queries,
      exported: exportedTicks(controller.metrics.render()),
      journalsFolded: Math.max(0, (generations.at(-1) ?? 1) - 1),
    };
  } finally {
    clearInterval(rssSampler);
    await controller.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}
