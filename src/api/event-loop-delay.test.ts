import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventLoopDelay, type DelayHistogram } from './event-loop-delay.js';

/** A monitor whose samples the test sets, in nanoseconds. */
class FakeMonitor implements DelayHistogram {
  samples: number[] = [];
  enabled = false;
  get count(): number {
    return this.samples.length;
  }
  get max(): number {
    return Math.max(...this.samples);
  }
  percentile(p: number): number {
    const sorted = [...this.samples].sort((a, b) => a - b);
    return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
  }
  reset(): void {
    this.samples = [];
  }
  enable(): void {
    this.enabled = true;
  }
  disable(): void {
    this.enabled = false;
  }
}

const ms = (n: number): number => n * 1e6;

function gauge(text: string, name: string, quantile: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{quantile="${quantile}"} `));
  if (line === undefined) throw new Error(`no ${name}{quantile="${quantile}"} in:\n${text}`);
  return Number(line.split(' ')[1]);
}

describe('EventLoopDelay', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('renders one gauge per quantile, the resolution taken off, 0 before any sample', () => {
    const monitors: FakeMonitor[] = [];
    const delay = new EventLoopDelay({
      prefix: 'aviary_test',
      monitor: () => monitors[monitors.push(new FakeMonitor()) - 1]!,
    });
    const name = 'aviary_test_event_loop_delay_seconds';
    expect(delay.render()).toBe(
      [
        `# HELP ${name} Event-loop delay of this process over the last 60 to 120 s, by quantile (1: the largest).`,
        `# TYPE ${name} gauge`,
        `${name}{quantile="0.5"} 0`,
        `${name}{quantile="0.9"} 0`,
        `${name}{quantile="0.99"} 0`,
        `${name}{quantile="1"} 0`,
        '',
      ].join('\n'),
    );
    // 98 idle ticks at the 10 ms resolution, one 30 ms late, one 250 ms late.
    monitors[0]!.samples = [...Array.from({ length: 98 }, () => ms(10)), ms(40), ms(260)];
    const text = delay.render();
    expect(gauge(text, name, '0.5')).toBe(0);
    expect(gauge(text, name, '0.99')).toBeCloseTo(0.03, 9);
    expect(gauge(text, name, '1')).toBeCloseTo(0.25, 9);
  });

  it('reads the monitor reset longest ago, and resets the older one every window', () => {
    vi.useFakeTimers();
    const monitors: FakeMonitor[] = [];
    const delay = new EventLoopDelay({
      prefix: 'p',
      windowMs: 1000,
      monitor: () => monitors[monitors.push(new FakeMonitor()) - 1]!,
    });
    const [a, b] = monitors as [FakeMonitor, FakeMonitor];
    delay.start();
    expect(a.enabled && b.enabled).toBe(true);
    a.samples = [ms(510)];
    b.samples = [ms(510)];
    expect(delay.delaySeconds(1)).toBeCloseTo(0.5, 9);
    // First window: the monitor read so far starts over, the other (same age) is read.
    vi.advanceTimersByTime(1000);
    expect(a.count).toBe(0);
    expect(delay.delaySeconds(1)).toBeCloseTo(0.5, 9);
    a.samples = [ms(20)];
    b.samples.push(ms(20));
    // Second window: b, which still holds the 500 ms stall, starts over; a, one window old, is read.
    vi.advanceTimersByTime(1000);
    expect(b.count).toBe(0);
    expect(delay.delaySeconds(1)).toBeCloseTo(0.01, 9);
    delay.stop();
    expect(a.enabled || b.enabled).toBe(false);
  });

  it("measures this process's loop: a 150 ms block shows as the largest delay", async () => {
    const delay = new EventLoopDelay({ prefix: 'p' });
    delay.start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const blockedUntil = Date.now() + 150;
      while (Date.now() < blockedUntil) {
        // Blocks the loop on purpose.
      }
      // The monitor's timer records the late tick once the loop turns again.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(delay.delaySeconds(1)).toBeGreaterThanOrEqual(0.13);
    } finally {
      delay.stop();
    }
  });
});
