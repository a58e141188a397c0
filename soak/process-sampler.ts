/**
 * Samples every Aviary process once a second for the whole soak (aviary-processes.ts), and
 * reads a figure off the samples as the floor of a window: the least RSS, descriptors and
 * connections seen in it. A garbage-collected heap grows and shrinks by tens of percent
 * between collections, and descriptors come and go with each rollout; the floor over a
 * window longer than those cycles moves only when what is kept grows, which is a leak.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { establishedSockets, processUse, type ProcessUse } from './aviary-processes.js';

/** One process at one second. */
export interface ProcessSample extends ProcessUse {
  readonly pid: number;
  /** Seconds since the load started. */
  readonly atSeconds: number;
}

/** The least of each figure of `pid` over the samples from `fromSeconds` to `toSeconds`; undefined without one. */
export function floorOver(
  samples: readonly ProcessSample[],
  pid: number,
  fromSeconds: number,
  toSeconds: number,
): ProcessUse | undefined {
  const inWindow = samples.filter(
    (s) => s.pid === pid && s.atSeconds >= fromSeconds && s.atSeconds <= toSeconds,
  );
  if (inWindow.length === 0) return undefined;
  return {
    rssBytes: Math.min(...inWindow.map((s) => s.rssBytes)),
    fds: Math.min(...inWindow.map((s) => s.fds)),
    connections: Math.min(...inWindow.map((s) => s.connections)),
  };
}

/** Samples the processes `pids()` names every second until stopped. */
export class ProcessSampler {
  readonly samples: ProcessSample[] = [];
  #running: Promise<void> | undefined;
  readonly #stop = new AbortController();

  constructor(
    private readonly pids: () => readonly number[],
    private readonly seconds: () => number,
  ) {}

  start(): void {
    this.#running ??= this.#loop();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  async #loop(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      const established = await establishedSockets();
      const atSeconds = this.seconds();
      for (const pid of this.pids()) {
        const use = await processUse(pid, established);
        if (use !== undefined) this.samples.push({ pid, atSeconds, ...use });
      }
      await sleep(1000, undefined, { signal: this.#stop.signal }).catch(() => undefined);
    }
  }
}
