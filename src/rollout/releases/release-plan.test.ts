import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ProcessSpec } from '../../target/process/version-spec.js';
import { releaseChanges, releaseRouting, sharesOf } from './release-plan.js';

function spec(tag: string, replicas = 1): ProcessSpec {
  return { command: 'node', args: ['app.js'], env: { AVIARY_TAG: tag }, replicas };
}

describe('releaseChanges', () => {
  it('sorts entries into started, updated, unchanged and removed', () => {
    const running = new Map([
      ['v1', spec('v1.0.0')],
      ['v2', spec('v2.0.0')],
      ['v3', spec('v3.0.0')],
    ]);
    const next = new Map([
      ['v1', spec('v1.0.0')],
      ['v2', spec('v2.0.1')],
      ['v4', spec('v4.0.0')],
    ]);
    expect(releaseChanges(running, next)).toEqual({
      started: ['v4'],
      updated: ['v2'],
      unchanged: ['v1'],
      removed: ['v3'],
    });
  });

  it('treats a replica change as an update', () => {
    const running = new Map([['v1', spec('v1.0.0', 1)]]);
    expect(releaseChanges(running, new Map([['v1', spec('v1.0.0', 3)]])).updated).toEqual(['v1']);
  });
});

describe('releaseRouting', () => {
  const entries = [
    { name: 'a', tag: 'v1.0.0', weight: 70 },
    { name: 'b', tag: 'v2.0.0', weight: 30 },
    { name: 'c', tag: 'v3.0.0', weight: 0 },
  ];

  it('routes ready versions at their weights and draining ones at 0', () => {
    const endpoints = new Map([
      ['a', ['127.0.0.1:2', '127.0.0.1:1']],
      ['b', ['127.0.0.1:3']],
      ['c', ['127.0.0.1:4']],
      ['old', ['127.0.0.1:5']],
    ]);
    expect(releaseRouting(entries, ['old'], endpoints)).toEqual({
      versions: [
        { name: 'a', endpoints: ['127.0.0.1:1', '127.0.0.1:2'] },
        { name: 'b', endpoints: ['127.0.0.1:3'] },
        { name: 'c', endpoints: ['127.0.0.1:4'] },
        { name: 'old', endpoints: ['127.0.0.1:5'] },
      ],
      weights: { a: 70, b: 30, c: 0, old: 0 },
    });
  });

  it('leaves out versions without a ready endpoint, and sets no weights when nothing weighted can answer', () => {
    expect(releaseRouting(entries, [], new Map([['b', ['127.0.0.1:3']]]))).toEqual({
      versions: [{ name: 'b', endpoints: ['127.0.0.1:3'] }],
      weights: { b: 30 },
    });
    expect(releaseRouting(entries, [], new Map([['c', ['127.0.0.1:4']]]))).toEqual({
      versions: [{ name: 'c', endpoints: ['127.0.0.1:4'] }],
    });
  });
});

describe('sharesOf', () => {
  it('turns relative weights into percentages', () => {
    expect(sharesOf({ a: 1, b: 3, c: 0 })).toEqual({ a: 25, b: 75, c: 0 });
    expect(sharesOf({ a: 0 })).toEqual({ a: 0 });
  });

  it('sums to 100 within rounding whenever some weight is positive', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 10 }), (weights) => {
        fc.pre(weights.some((w) => w > 0));
        const shares = sharesOf(Object.fromEntries(weights.map((w, i) => [`v${i}`, w])));
        const total = Object.values(shares).reduce((a, b) => a + b, 0);
        expect(Math.abs(total - 100)).toBeLessThanOrEqual(0.05 * weights.length + 1e-9);
      }),
    );
  });
});
