/**
 * One soak run: `aviary up` on the demo's apps (aviary-up.ts), steady load on its router
 * (load-generator.ts), and a new catalogdetail release every `everySeconds`, good and faulty
 * by turns (soak-releases.ts), each followed until it settles, then an idle point measured
 * (idle-point.ts). No release starts that could not settle before the end, so the last
 * idle point is measured in the same state as the first. Everything it started is stopped
 * when it returns or throws, and when `signal` aborts.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../src/cli/demo-ports.js';
import { AVIARY_BIN, startAviaryUp, type RunningAviary } from './aviary-up.js';
import { appState, eventLoopP99Ms, type AppState } from './control-api.js';
import { idlePoint, type IdlePoint } from './idle-point.js';
import { LoadGenerator, type LoadCounts } from './load-generator.js';
import { ProcessSampler, type ProcessSample } from './process-sampler.js';
import { releaseOf, writeSoakConfig, type Release, type SoakPlacement } from './soak-releases.js';
import type { SoakSettings } from './soak-options.js';

/** How one release ended. */
export interface RolloutRecord {
  readonly release: number;
  readonly faulty: boolean;
  /** catalogdetail's phase once settled: `Succeeded` (promoted) or `Failed` (rolled back). */
  readonly phase: string;
  readonly seconds: number;
}

/** Everything a run measured; soak-report.ts judges it. */
export interface SoakRun {
  readonly settings: SoakSettings;
  readonly points: readonly IdlePoint[];
  /** Each Aviary process once a second from the start of the load. */
  readonly samples: readonly ProcessSample[];
  /** Index in `points` of the first idle point after the warm-up, or -1 when none came. */
  readonly warmIndex: number;
  readonly rollouts: readonly RolloutRecord[];
  readonly load: LoadCounts;
  /** Event-loop delay p99 of each role, ms: the last reading and the worst after the warm-up. */
  readonly eventLoopP99Ms: Record<string, { end: number; worst: number }>;
  readonly machine: { readonly cpus: number; readonly loadStart: number[]; readonly loadEnd: number[] };
  readonly durationSeconds: number;
  /** Why the run ended early, when it did. */
  readonly error?: string;
}

const APPS = ['catalogdetail', 'frontend'] as const;
/** Longest wait for one release to settle: the demo's progress deadline (90 s) and then some. */
const SETTLE_TIMEOUT_MS = 180_000;

/** Resolves with each app's state once both have settled on a revision `accept` takes. */
async function settledStates(
  controlUrl: string,
  accept: (app: string, state: AppState) => boolean,
  signal: AbortSignal,
): Promise<Record<string, AppState>> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const states = Object.fromEntries(
      await Promise.all(APPS.map(async (app) => [app, await appState(controlUrl, app)] as const)),
    );
    if (APPS.every((app) => states[app]!.settled && accept(app, states[app]!))) return states;
    if (Date.now() > deadline)
      throw new Error(
        `soak: the apps did not settle within ${SETTLE_TIMEOUT_MS / 1000} s: ${JSON.stringify(states)}`,
      );
    await sleep(250, undefined, { signal });
  }
}

/** Runs the soak described by `settings`; `log` gets one line per step. */
export async function runSoak(
  settings: SoakSettings,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<SoakRun> {
  await mkdir(settings.workDir, { recursive: true });
  const placement: SoakPlacement = {
    stateDir: join(settings.workDir, 'state'),
    routerPort: await freePort(),
    apiPort: await freePort(),
  };
  const file = join(settings.workDir, 'aviary.yaml');
  await writeSoakConfig(file, placement, releaseOf(0));
  const faultyVersions = new Set<string>();
  const load = new LoadGenerator({
    routerUrl: `http://127.0.0.1:${placement.routerPort}`,
    ratePerSecond: settings.ratePerSecond,
    isFaulty: (version) => faultyVersions.has(version),
  });
  const points: IdlePoint[] = [];
  const rollouts: RolloutRecord[] = [];
  const eventLoop: Record<string, { end: number; worst: number }> = {};
  const loadStart = loadavg();
  let warmIndex = -1;
  let loadStartedAt = Date.now();
  let error: string | undefined;
  let aviary: RunningAviary | undefined;
  let eventLoopTimer: NodeJS.Timeout | undefined;
  const since = (): number => (Date.now() - loadStartedAt) / 1000;
  const sampler = new ProcessSampler(() => points.at(-1)?.processes.map((p) => p.pid) ?? [], since);
  const readEventLoop = async (): Promise<void> => {
    for (const [role, ms] of Object.entries(await eventLoopP99Ms(aviary!.controlUrl).catch(() => ({})))) {
      const worst = warmIndex === -1 ? 0 : Math.max(eventLoop[role]?.worst ?? 0, ms);
      eventLoop[role] = { end: ms, worst };
    }
  };
  const markIdle = async (label: string): Promise<void> => {
    const point = await idlePoint(label, since(), aviary!.pid, AVIARY_BIN, placement.stateDir);
    points.push(point);
    await readEventLoop();
    const figures = point.processes.map(({ pid, role }) => {
      const s = sampler.samples.findLast((sample) => sample.pid === pid);
      const mb =
        s === undefined ? '' : ` ${(s.rssBytes / 2 ** 20).toFixed(1)} MB ${s.fds}+${s.connections} fds`;
      return `${role}${mb}`;
    });
    log(
      `${since().toFixed(0).padStart(5)} s  idle, ${label}: ${figures.join(', ')}, journal ${point.journal.journalBytes} bytes`,
    );
  };
  try {
    aviary = await startAviaryUp({
      file,
      stateDir: placement.stateDir,
      apiPort: placement.apiPort,
      logFile: join(settings.workDir, 'aviary-up.log'),
      hardLimitSeconds: settings.durationSeconds + 900,
    });
    const controlUrl = aviary.controlUrl;
    log(`aviary up (pid ${aviary.pid}) on ${controlUrl}, router on port ${placement.routerPort}`);
    let current = await settledStates(controlUrl, () => true, signal);
    load.start();
    loadStartedAt = Date.now();
    await markIdle('start');
    sampler.start();
    const deadline = loadStartedAt + settings.durationSeconds * 1000;
    // A release starts only when one as long as the longest so far would settle before the end.
    let longestMs = 30_000;
    for (let n = 1; ; n++) {
      const startAt = Math.max(Date.now(), loadStartedAt + (n - 1) * settings.everySeconds * 1000);
      if (startAt + longestMs > deadline) break;
      await sleep(startAt - Date.now(), undefined, { signal });
      const release = releaseOf(n);
      if (release.faulty) faultyVersions.add(release.version);
      const began = Date.now();
      await writeSoakConfig(file, placement, release);
      const before = current;
      current = await settledStates(
        controlUrl,
        (app, s) => app === 'frontend' || s.revision !== before[app]!.revision,
        signal,
      );
      const seconds = (Date.now() - began) / 1000;
      longestMs = Math.max(longestMs, Date.now() - began + 5_000);
      rollouts.push({
        release: n,
        faulty: release.faulty,
        phase: String(current.catalogdetail!.phase),
        seconds,
      });
      log(
        `${since().toFixed(0).padStart(5)} s  release ${describe(release)}: ${current.catalogdetail!.phase} after ${seconds.toFixed(0)} s`,
      );
      await markIdle(`after release ${n}`);
      if (warmIndex === -1 && n >= 2 && since() >= settings.warmupSeconds) {
        warmIndex = points.length - 1;
        eventLoopTimer = setInterval(() => void readEventLoop(), 15_000);
      }
    }
    await sleep(Math.max(0, deadline - Date.now()), undefined, { signal });
    await settledStates(controlUrl, () => true, signal);
    await markIdle('end');
  } catch (err) {
    error = signal.aborted
      ? `stopped by ${String(signal.reason)}`
      : String(err instanceof Error ? err.message : err);
    if (aviary !== undefined)
      await writeFile(join(settings.workDir, 'failure.txt'), `${error}\n\n${await aviary.output()}`);
  } finally {
    clearInterval(eventLoopTimer);
    await sampler.stop();
    await load.stop();
    await aviary?.stop();
  }
  return {
    settings,
    points,
    samples: sampler.samples,
    warmIndex,
    rollouts,
    load: load.counts,
    eventLoopP99Ms: eventLoop,
    machine: { cpus: cpus().length, loadStart, loadEnd: loadavg() },
    durationSeconds: since(),
    ...(error === undefined ? {} : { error }),
  };
}

function describe(release: Release): string {
  return `${release.number} (catalogdetail v${release.version}, ${release.faulty ? 'faulty' : 'good'})`;
}
