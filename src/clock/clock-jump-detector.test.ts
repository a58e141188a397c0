import { describe, expect, it } from 'vitest';
import { ClockJumpDetector } from './clock-jump-detector.js';

/** Two injected clocks: `pass` moves both, `step` the wall clock alone. */
function clocks() {
  const c = {
    wall: 1_000_000,
    mono: 50,
    pass: (ms: number) => ((c.wall += ms), (c.mono += ms)),
    step: (ms: number) => (c.wall += ms),
  };
  return c;
}

describe('ClockJumpDetector', () => {
  it('reports a step of the wall clock, forward and back, and not the time passing', () => {
    const c = clocks();
    const detector = new ClockJumpDetector({ wall: () => c.wall, monotonic: () => c.mono });
    expect(detector.read()).toEqual({ now: 1_000_000, jumpMs: 0 });
    c.pass(60_000);
    expect(detector.read().jumpMs).toBe(0);
    c.pass(400);
    c.step(3_600_000);
    expect(detector.read()).toEqual({ now: 1_000_000 + 60_400 + 3_600_000, jumpMs: 3_600_000 });
    expect(detector.read().jumpMs).toBe(0);
    c.step(-7_200_000);
    c.pass(10);
    expect(detector.read().jumpMs).toBe(-7_200_000);
  });

  it('absorbs steps under the tolerance, so slewing never adds up to a jump', () => {
    const c = clocks();
    const detector = new ClockJumpDetector({
      wall: () => c.wall,
      monotonic: () => c.mono,
      toleranceMs: 1000,
    });
    detector.read();
    for (let i = 0; i < 20; i++) {
      c.step(300);
      c.pass(1000);
      expect(detector.read().jumpMs).toBe(0);
    }
    c.step(1000);
    expect(detector.read().jumpMs).toBe(1000);
  });
});
