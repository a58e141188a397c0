import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AviaryError } from '../errors.js';
import { ProxyMetrics } from '../proxy/stats/proxy-metrics.js';
import { MIN_SERIES_SECONDS, parseTrafficQuery, trafficSeries } from './traffic-series.js';

const APP = 'catalogdetail';
// A whole second plus 400 ms: the current, still-filling second starts at NOW - 400.
const NOW = 1_700_000_000_400;
const END = 1_700_000_000_000;

function record(metrics: ProxyMetrics, version: string, atMs: number, status: number, latencyMs: number) {
  const stats = metrics.endpoint(APP, 'main', version, 'none');
  metrics.recordRequest(stats, metrics.window(APP, version), atMs, status, latencyMs, undefined);
}

describe('trafficSeries', () => {
  it('buckets each version: rate, success rate and quantiles per step', async () => {
    const metrics = new ProxyMetrics();
    // Bucket [END-10s, END-5s): 10 canary requests, one a 500, latencies 1..10 ms.
    for (let i = 1; i <= 10; i++) record(metrics, 'canary', END - 8_000, i === 10 ? 500 : 200, i);
    // Bucket [END-5s, END): 20 primary requests at 40 ms.
    for (let i = 0; i < 20; i++) record(metrics, 'primary', END - 1_000, 200, 40);
    // The current second is still filling: left out.
    record(metrics, 'primary', NOW - 100, 500, 999);

    const series = await trafficSeries(metrics.trafficWindows(), APP, {
      seconds: 15,
      stepSeconds: 5,
      nowMs: NOW,
    });

    expect(series).toMatchObject({ app: APP, fromMs: END - 15_000, toMs: END, stepMs: 5_000 });
    expect(series.timestamps).toEqual([END - 10_000, END - 5_000, END]);
    const { canary, primary } = series.versions;
    expect(canary.requests).toEqual([0, 10, 0]);
    expect(canary.rps).toEqual([null, 2, 0]);
    expect(canary.successRate).toEqual([null, 90, null]);
    expect(canary.p50Ms[1]).toBeCloseTo(5, 0);
    expect(canary.p99Ms[1]).toBeCloseTo(10, 0);
    expect(canary.p50Ms[2]).toBeNull();
    expect(primary.requests).toEqual([0, 0, 20]);
    expect(primary.rps).toEqual([null, null, 4]);
    expect(primary.successRate).toEqual([null, null, 100]);
    expect(primary.p99Ms[2]).toBeCloseTo(40, 0);
  });

  it('counts mirrored copies, as the built-in checks do', async () => {
    const metrics = new ProxyMetrics();
    const window = metrics.window(APP, 'canary');
    window.recordMirror(END - 2_000, 200, 20);
    window.recordMirror(END - 2_000, 0, 20);
    const series = await trafficSeries(metrics.trafficWindows(), APP, {
      seconds: 5,
      stepSeconds: 5,
      nowMs: NOW,
    });
    expect(series.versions.canary.requests).toEqual([2]);
    expect(series.versions.canary.successRate).toEqual([50]);
  });

  it('fits a history shorter than the span: buckets before the first request are left out, down to 30 s', async () => {
    const metrics = new ProxyMetrics();
    // A run 90 s old, asked for the default five minutes: the series starts at its first request.
    record(metrics, 'primary', END - 90_000, 200, 5);
    record(metrics, 'canary', END - 20_000, 200, 5);
    const series = await trafficSeries(metrics.trafficWindows(), APP, {
      seconds: 300,
      stepSeconds: 5,
      nowMs: NOW,
    });
    expect(series.fromMs).toBe(END - 90_000);
    expect(series.timestamps[0]).toBe(END - 85_000);
    expect(series.timestamps).toHaveLength(18);
    expect(series.versions.primary.requests).toHaveLength(18);
    expect(series.versions.primary.rps[0]).toBe(0.2);
    expect(series.versions.canary.p99Ms).toHaveLength(18);

    // A run 10 s old still gets 30 s of axis, so its two points are not stretched edge to edge.
    const young = new ProxyMetrics();
    record(young, 'canary', END - 10_000, 200, 5);
    const short = await trafficSeries(young.trafficWindows(), APP, {
      seconds: 300,
      stepSeconds: 5,
      nowMs: NOW,
    });
    expect(short.fromMs).toBe(END - MIN_SERIES_SECONDS * 1000);
    expect(short.timestamps).toHaveLength(6);

    // No traffic at all: the shortest span of empty buckets.
    const idle = await trafficSeries(new ProxyMetrics().trafficWindows(), APP, {
      seconds: 300,
      stepSeconds: 5,
      nowMs: NOW,
    });
    expect(idle.fromMs).toBe(END - 30_000);
    expect(idle.versions.primary.rps).toEqual(Array.from({ length: 6 }, () => null));
  });

  it('buckets partition the span: their requests add up to the requests in it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: -130_000, max: 999 }), { maxLength: 60 }),
        fc.constantFrom(1, 2, 5, 10),
        async (offsets, stepSeconds) => {
          const metrics = new ProxyMetrics();
          for (const offset of offsets) record(metrics, 'primary', NOW + offset - 400, 200, 5);
          const series = await trafficSeries(metrics.trafficWindows(), APP, {
            seconds: 60,
            stepSeconds,
            nowMs: NOW,
          });
          const inSpan = offsets.filter((o) => {
            const at = NOW + o - 400;
            return at >= series.fromMs && at < series.toMs;
          }).length;
          expect(series.versions.primary.requests.reduce((a, b) => a + b, 0)).toBe(inSpan);
        },
      ),
      // Each run allocates a ten-minute window; a few dozen runs cover the step sizes.
      { numRuns: 30 },
    );
  });
});

describe('parseTrafficQuery', () => {
  const parse = (query: string) => parseTrafficQuery(new URLSearchParams(query), 600, NOW);

  it('defaults to the last five minutes in five-second steps', () => {
    expect(parse('')).toEqual({ seconds: 300, stepSeconds: 5, nowMs: NOW });
    expect(parse('seconds=60&step=1')).toEqual({ seconds: 60, stepSeconds: 1, nowMs: NOW });
  });

  it.each([
    ['step=0', 'step: expected whole seconds from 1 to 60, got "0"'],
    ['step=61', 'step: expected whole seconds from 1 to 60, got "61"'],
    ['step=2.5', 'step: expected whole seconds from 1 to 60, got "2.5"'],
    ['seconds=601', 'seconds: expected whole seconds from 5 to 600, got "601"'],
    ['seconds=abc', 'seconds: expected whole seconds from 5 to 600, got "abc"'],
    ['seconds=10&step=30', 'seconds: expected whole seconds from 30 to 600, got "10"'],
  ])('rejects %s naming the parameter', (query, message) => {
    const attempt = () => parse(query);
    expect(attempt).toThrow(AviaryError);
    expect(attempt).toThrow(message);
  });
});
