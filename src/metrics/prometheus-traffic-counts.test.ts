/**
 * Exact counts from raw counter samples: windows telescope, resets and new series count from
 * zero, fractions are refused, and histogram buckets land on the sketch at their `le` edge.
 */
import { describe, expect, it } from 'vitest';
import { bucketIndex } from '../analysis/latency-sketch.js';
import {
  counterIncrements,
  latencySketches,
  resetScrapes,
  totalIncrements,
  windowGrid,
} from './prometheus-traffic-counts.js';

const T0 = 1_700_000_000_000;
const s = (seconds: number) => T0 + seconds * 1000;

describe('counterIncrements', () => {
  const grid = windowGrid(s(0), s(4), 2000);

  it('gives each sample delta to the window its timestamp ends in, so windows add up to the whole', () => {
    const baseline = [{ labels: { code: '200' }, samples: [[s(0), 100]] as [number, number][] }];
    const samples = [
      {
        labels: { code: '200' },
        samples: [
          [s(0), 100], // the baseline itself, repeated by an inclusive range: not counted again
          [s(1.5), 103],
          [s(2), 110], // exactly at the edge: the first window's
          [s(3.5), 111],
        ] as [number, number][],
      },
    ];
    const total = totalIncrements(counterIncrements({ baseline, samples }, grid), grid);
    expect(total).toEqual([10, 1]);
    const whole = windowGrid(s(0), s(4), 4000);
    expect(totalIncrements(counterIncrements({ baseline, samples }, whole), whole)).toEqual([11]);
  });

  it('counts a reset as a restart from zero and a new series (a first 5xx) from zero', () => {
    const baseline = [{ labels: { code: '200' }, samples: [[s(0), 50]] as [number, number][] }];
    const samples = [
      {
        labels: { code: '200' },
        samples: [
          [s(1), 55],
          [s(2), 3],
          [s(3), 9],
        ] as [number, number][],
      },
      {
        labels: { code: '503' },
        samples: [
          [s(3), 2],
          [s(4), 2],
        ] as [number, number][],
      },
    ];
    const byCode = counterIncrements({ baseline, samples }, grid, (l) => l.code ?? '');
    expect(byCode.get('200')).toEqual([5 + 3, 6]);
    expect(byCode.get('503')).toEqual([0, 2]);
  });

  it('reads a restart seen in one counter of a target as a restart of all its counters', () => {
    const target = { job: 'envoy', instance: '10.0.0.1:19001' };
    const requests = {
      baseline: [{ labels: target, samples: [[s(0), 40]] as [number, number][] }],
      samples: [
        {
          labels: target,
          samples: [
            [s(1), 45],
            [s(3), 6],
          ] as [number, number][],
        },
      ],
    };
    // One 5xx before the restart, one after: the counter reads 1 both times.
    const errors = {
      baseline: [{ labels: { ...target, class: '5' }, samples: [[s(0), 1]] as [number, number][] }],
      samples: [
        {
          labels: { ...target, class: '5' },
          samples: [
            [s(1), 1],
            [s(3), 1],
          ] as [number, number][],
        },
      ],
    };
    const resets = resetScrapes([requests, errors], grid);
    expect(totalIncrements(counterIncrements(requests, grid, undefined, resets), grid)).toEqual([5, 6]);
    expect(totalIncrements(counterIncrements(errors, grid, undefined, resets), grid)).toEqual([0, 1]);
    // Alone, the 5xx counter cannot show its restart (nor can Prometheus's increase()).
    expect(totalIncrements(counterIncrements(errors, grid), grid)).toEqual([0, 0]);
  });

  it('refuses a counter that is not a whole number, rather than passing a fraction to the judge', () => {
    const samples = [{ labels: {}, samples: [[s(1), 1.5]] as [number, number][] }];
    expect(() => counterIncrements({ baseline: [], samples }, grid)).toThrow(
      expect.objectContaining({ code: 'AVIARY_PROVIDER_ERROR' }),
    );
  });

  it('refuses windows that are not whole seconds, naming the values', () => {
    expect(() => windowGrid(s(0) + 1, s(2), 1000)).toThrow(/fromMs=1700000000001/);
    expect(() => windowGrid(s(2), s(2), 1000)).toThrow(/AVIARY_JUDGE_WINDOW_INVALID|whole seconds/);
  });
});

describe('latencySketches', () => {
  const grid = windowGrid(s(0), s(1), 1000);

  it('places the requests of (le_k-1, le_k] at le_k, and beyond the last edge in the last bucket', () => {
    const byLe = new Map([
      ['5', [2]],
      ['10', [7]],
      ['25', [7]],
      ['+Inf', [8]],
    ]);
    const [sketch] = latencySketches(byLe, grid, 1);
    const buckets = [...sketch!.buckets()];
    expect(buckets).toEqual([
      [bucketIndex(5), 2],
      [bucketIndex(10), 5],
      [expect.any(Number), 1],
    ]);
    expect(buckets[2]![0]).toBeGreaterThan(bucketIndex(3_600_000));
    expect(sketch!.count).toBe(8);
  });

  it('scales seconds to milliseconds', () => {
    const [sketch] = latencySketches(
      new Map([
        ['0.25', [3]],
        ['+Inf', [3]],
      ]),
      grid,
      1000,
    );
    expect([...sketch!.buckets()]).toEqual([[bucketIndex(250), 3]]);
  });

  it('refuses buckets that are not cumulative', () => {
    expect(() =>
      latencySketches(
        new Map([
          ['5', [4]],
          ['10', [3]],
        ]),
        grid,
        1,
      ),
    ).toThrow(/not cumulative/);
  });
});
