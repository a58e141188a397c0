/**
 * Per-tick figures of a running `RolloutController`, taken at the two seams it exposes:
 * `tick(app)` (what its timers call) and `metrics.observeTick` (where it records each
 * tick's duration for `aviary_rollout_tick_seconds`). The controller's figure covers the
 * tick up to persistence; against in-memory parts that stretch runs as one chain of
 * microtasks, with nothing else interleaved, so a `process.cpuUsage()` delta over it is the
 * tick's own CPU. A tick whose chain left the microtask queue would also count other work;
 * the report prints the probe's totals beside the exposition's so a mismatch shows.
 */
import type { RolloutController } from '../../src/rollout/controller/controller.js';

/** One tick. */
export interface TickSample {
  /** The controller's own measure (`observeTick`), ms of wall time from tick start to persistence. */
  readonly tickMs: number;
  /** `process.cpuUsage()` over the same span, ms (user + system). */
  readonly cpuMs: number;
  /** From tick start until the tick's promise settles, ms: includes the atomic write and its queueing. */
  readonly latencyMs: number;
}

/**
 * Every tick's figures in typed arrays (growing by doubling) with a stage number each:
 * keeping 15,000 sample objects alive would add to the very RSS the bench measures.
 */
export class SampleLog {
  private size = 0;
  private tickMs = new Float64Array(4096);
  private cpuMs = new Float64Array(4096);
  private latencyMs = new Float64Array(4096);
  private stages = new Uint8Array(4096);

  get length(): number {
    return this.size;
  }

  push(tickMs: number, cpuMs: number, latencyMs: number, stage: number): void {
    if (this.size === this.stages.length) this.grow();
    this.tickMs[this.size] = tickMs;
    this.cpuMs[this.size] = cpuMs;
    this.latencyMs[this.size] = latencyMs;
    this.stages[this.size] = stage;
    this.size++;
  }

  private grow(): void {
    const bigger = <T extends Float64Array | Uint8Array>(from: T, make: (n: number) => T): T => {
      const to = make(from.length * 2);
      to.set(from);
      return to;
    };
    this.tickMs = bigger(this.tickMs, (n) => new Float64Array(n));
    this.cpuMs = bigger(this.cpuMs, (n) => new Float64Array(n));
    this.latencyMs = bigger(this.latencyMs, (n) => new Float64Array(n));
    this.stages = bigger(this.stages, (n) => new Uint8Array(n));
  }

  /** The samples as objects, stage names from `names`; call once the measuring is over. */
  toArray<S>(names: readonly S[]): (TickSample & { readonly stage: S })[] {
    return Array.from({ length: this.size }, (_, i) => ({
      tickMs: this.tickMs[i]!,
      cpuMs: this.cpuMs[i]!,
      latencyMs: this.latencyMs[i]!,
      stage: names[this.stages[i]!]!,
    }));
  }
}

/**
 * Wraps `controller.tick` and `controller.metrics.observeTick` on this instance to report
 * every tick to `onSample` (tick ms, CPU ms, latency ms). Install before `start()`.
 */
export function installTickProbe(
  controller: RolloutController,
  onSample: (tickMs: number, cpuMs: number, latencyMs: number) => void,
): void {
  const open = new Map<string, { cpu: NodeJS.CpuUsage; at: number }>();
  const measured = new Map<string, { tickMs: number; cpuMs: number }>();
  const tick = controller.tick.bind(controller);
  controller.tick = (app: string): Promise<void> => {
    // A call during a running tick only asks for another one; it is not a tick of its own.
    if (open.has(app)) return tick(app);
    open.set(app, { cpu: process.cpuUsage(), at: performance.now() });
    return tick(app).finally(() => {
      const start = open.get(app);
      open.delete(app);
      const figures = measured.get(app);
      measured.delete(app);
      if (start && figures) onSample(figures.tickMs, figures.cpuMs, performance.now() - start.at);
    });
  };
  const observeTick = controller.metrics.observeTick.bind(controller.metrics);
  controller.metrics.observeTick = (app, status, checks, tickSeconds) => {
    const start = open.get(app);
    if (start) {
      const cpu = process.cpuUsage(start.cpu);
      measured.set(app, { tickMs: tickSeconds * 1000, cpuMs: (cpu.user + cpu.system) / 1000 });
    }
    observeTick(app, status, checks, tickSeconds);
  };
}
