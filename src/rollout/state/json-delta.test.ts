import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyJsonDelta, isJsonDelta, jsonDelta, jsonEqual } from './json-delta.js';

/** JSON with sorted keys: two documents are the same JSON exactly when these are equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

const parsed = (value: unknown): Record<string, unknown> =>
  JSON.parse(JSON.stringify(value)) as Record<string, unknown>;

/** Documents that share keys often, so deltas reach into nested objects. */
const key = fc.constantFrom('a', 'b', 'c', 'status', '__proto__', 'constructor');
const leaf = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 3 }),
  fc.constant(undefined),
);
const { doc } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('doc'), fc.array(tie('value'), { maxLength: 3 })),
  doc: fc.dictionary(key, tie('value'), { maxKeys: 4 }),
}));
const document = doc;

describe('jsonDelta and applyJsonDelta', () => {
  it('turn any document into any other, as JSON sees them', () => {
    fc.assert(
      fc.property(document, document, (from, to) => {
        const target = parsed(from);
        const delta = jsonDelta(from, to);
        // The delta goes through the journal as JSON.
        applyJsonDelta(target, JSON.parse(JSON.stringify(delta)) as typeof delta);
        expect(canonical(target)).toBe(canonical(to));
      }),
      { numRuns: 2000 },
    );
  });

  it('say nothing for equal documents and write only the changed leaf of a nested one', () => {
    const before = {
      status: { phase: 'Progressing', canaryWeight: 10, promoted: { at: 1 } },
      specs: { r1: { env: {} } },
    };
    const after = { ...before, status: { ...before.status, canaryWeight: 20 } };
    expect(jsonDelta(before, parsed(before))).toEqual([]);
    expect(jsonDelta(before, after)).toEqual([[['status', 'canaryWeight'], 20]]);
    expect(jsonDelta({ a: 1, b: [1, 2] }, { b: [1, 3] })).toEqual([[['a']], [['b'], [1, 3]]]);
  });

  it('treat "__proto__" as a key like any other, never as the prototype', () => {
    const target = parsed({ env: {} });
    applyJsonDelta(target, [[['env', '__proto__'], { polluted: true }]]);
    expect(Object.getPrototypeOf(target.env)).toBe(Object.prototype);
    expect(Object.keys(target.env as object)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(() => applyJsonDelta(parsed({}), [[['__proto__', 'polluted'], true]])).toThrow(
      'change at __proto__.polluted: __proto__ is not an object',
    );
  });

  it('refuse a path through something that is not an object, naming it', () => {
    expect(() => applyJsonDelta({ a: 1 }, [[['a', 'b'], 2]])).toThrow('change at a.b: a is not an object');
  });
});

describe('jsonEqual', () => {
  it('agrees with comparing the JSON texts up to key order', () => {
    fc.assert(
      fc.property(document, document, (a, b) => {
        expect(jsonEqual(a, b)).toBe(canonical(a) === canonical(b));
        expect(jsonEqual(a, parsed(a))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('ignores keys holding undefined and key order, not array order', () => {
    expect(jsonEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: null })).toBe(false);
  });
});

describe('isJsonDelta', () => {
  it('accepts lists of [path, value?] and nothing else', () => {
    expect(isJsonDelta([[['a'], 1], [['b', 'c']]])).toBe(true);
    for (const bad of [{}, [[]], [[[]]], [[['a'], 1, 2]], [[[1], 1]], [['a', 1]]])
      expect(isJsonDelta(bad)).toBe(false);
  });
});
