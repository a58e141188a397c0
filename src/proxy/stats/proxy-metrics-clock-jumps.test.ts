import { describe, expect, it } from 'vitest';
import { ProxyMetrics } from './proxy-metrics.js';

const HOUR = 3_600_000;
const T0 = 1_700_000_000_000;

/** Proxy metrics on injected clocks: `pass` moves wall and monotonic time, `jump` the wall clock alone. */
function metricsOnClocks() {
  const clock = { wall: T0, mono: 0 };
  const metrics = new ProxyMetrics(600, { now: () => clock.wall, monotonic: () => clock.mono });
  const stats = metrics.endpoint('app', 'default', 'canary', '127.0.0.1:1');
  const window = metrics.window('app', 'canary');
  return {
    metrics,
    pass: (ms: number) => ((clock.wall += ms), (clock.mono += ms)),
    jump: (ms: number) => (clock.wall += ms),
    now: () => clock.wall,
    /** One request a second for `seconds` seconds. */
    serve(seconds: number) {
      for (let i = 0; i < seconds; i++) {
        metrics.recordRequest(stats, window, clock.wall, 200, 5, undefined);
        this.pass(1000);
      }
    },
    /** Requests of the last `seconds` whole seconds, as the checks read them. */
    last(seconds: number) {
      const to = Math.floor(clock.wall / 1000) * 1000;
      return metrics.trafficBuckets('app', 'canary', to - seconds * 1000, to, seconds * 1000)[0]!.requests;
    },
  };
}

describe('ProxyMetrics: the per-second windows follow a jump of the wall clock', () => {
  it.each([
    ['back 1 h', -HOUR],
    ['forward 1 h', HOUR],
  ])('%s: the last 30 s still hold the seconds before the jump, each request once', (_, jumpMs) => {
    const m = metricsOnClocks();
    m.serve(20);
    m.jump(jumpMs);
    m.serve(10);
    expect(m.last(30)).toBe(30);
    expect(m.last(600)).toBe(30);
  });

  it('a jump seen first by a read moves the windows before they are read', () => {
    const m = metricsOnClocks();
    m.serve(20);
    m.jump(-HOUR);
    expect(m.last(30)).toBe(20);
  });

  it('without a monotonic clock (made-up times) nothing moves', () => {
    const metrics = new ProxyMetrics(600);
    const stats = metrics.endpoint('app', 'default', 'canary', '127.0.0.1:1');
    const window = metrics.window('app', 'canary');
    metrics.recordRequest(stats, window, 10_000, 200, 5, undefined);
    metrics.recordRequest(stats, window, 20_000, 200, 5, undefined);
    expect(metrics.trafficBuckets('app', 'canary', 10_000, 21_000, 11_000)[0]!.requests).toBe(2);
  });
});
