import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../config/canonical-json.js';
import { revisionOf, type ProcessSpec } from './version-spec.js';

const base: ProcessSpec = {
  command: 'node',
  args: ['server.js'],
  cwd: '/srv/app',
  env: { A: '1', B: '2' },
  replicas: 2,
};

describe('revisionOf', () => {
  it('is 12 hex characters and stable across runs', () => {
    expect(revisionOf(base)).toMatch(/^[0-9a-f]{12}$/);
    expect(revisionOf(base)).toBe(revisionOf({ ...base }));
  });

  it('ignores replicas, probes and the order of env keys', () => {
    const probe = {
      path: '/ping',
      intervalMs: 1,
      timeoutMs: 1,
      successThreshold: 1,
      failureThreshold: 1,
      initialDelayMs: 0,
    };
    const scaled: ProcessSpec = { ...base, replicas: 9, readinessProbe: probe, livenessProbe: probe };
    expect(revisionOf(scaled)).toBe(revisionOf(base));
    expect(revisionOf({ ...base, env: { B: '2', A: '1' } })).toBe(revisionOf(base));
  });

  it('changes with the command, an argument, the working directory or an env value', () => {
    const variants: ProcessSpec[] = [
      { ...base, command: 'bun' },
      { ...base, args: ['server.js', '--v2'] },
      { ...base, args: ['server.js '] },
      { ...base, cwd: '/srv/other' },
      { command: base.command, args: base.args, env: base.env, replicas: 2 },
      { ...base, env: { A: '1', B: '3' } },
      { ...base, env: { A: '1', B: '2', C: '' } },
    ];
    const revisions = new Set([revisionOf(base), ...variants.map(revisionOf)]);
    expect(revisions.size).toBe(variants.length + 1);
  });
});

describe('canonicalJson', () => {
  it('gives the same text for objects whose keys come in any order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (object) => {
        const reversed = Object.fromEntries(Object.entries(object).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(object));
        expect(JSON.parse(canonicalJson(object))).toEqual(JSON.parse(JSON.stringify(object)));
      }),
    );
  });
});
