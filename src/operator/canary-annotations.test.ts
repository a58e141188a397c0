import { describe, expect, it } from 'vitest';
import { hasCommands, readCommands } from './canary-annotations.js';

describe('command annotations on a Canary', () => {
  it('reads each command, in the order they are carried out: gates, pause, resume, weight, promote, abort', () => {
    const readings = readCommands({
      'aviary.dev/abort': 'error budget spent',
      'aviary.dev/promote': '',
      'aviary.dev/canary-weight': ' 30 ',
      'aviary.dev/resume': 'x',
      'aviary.dev/pause': '',
      'aviary.dev/open-gate': 'confirm-promotion, rollback,confirm-promotion',
      'aviary.dev/close-gate': 'confirm-rollout',
      'kubectl.kubernetes.io/last-applied-configuration': '{}',
    });
    expect(readings.map((r) => r.annotation)).toEqual([
      'aviary.dev/close-gate',
      'aviary.dev/open-gate',
      'aviary.dev/pause',
      'aviary.dev/resume',
      'aviary.dev/canary-weight',
      'aviary.dev/promote',
      'aviary.dev/abort',
    ]);
    expect(readings.flatMap((r) => r.requests)).toEqual([
      { kind: 'gate', gate: 'confirm-rollout', open: false },
      { kind: 'gate', gate: 'confirm-promotion', open: true },
      { kind: 'gate', gate: 'rollback', open: true },
      { kind: 'command', command: { kind: 'pause' } },
      { kind: 'command', command: { kind: 'resume' } },
      { kind: 'command', command: { kind: 'set-weights', canaryWeight: 30 } },
      { kind: 'command', command: { kind: 'promote' } },
      { kind: 'command', command: { kind: 'abort', reason: 'error budget spent' } },
    ]);
    expect(readings.every((r) => r.problem === undefined)).toBe(true);
  });

  it('an abort without a value has no reason', () => {
    expect(readCommands({ 'aviary.dev/abort': '' })[0]?.requests).toEqual([
      { kind: 'command', command: { kind: 'abort' } },
    ]);
  });

  it.each([
    ['aviary.dev/canary-weight', '101', /0 to 100, got "101"/],
    ['aviary.dev/canary-weight', '-1', /0 to 100/],
    ['aviary.dev/canary-weight', '3.5', /whole number/],
    ['aviary.dev/canary-weight', '', /got ""/],
    [
      'aviary.dev/open-gate',
      'confirm-promotion,approve',
      /confirm-rollout, confirm-traffic-increase, confirm-promotion, rollback; got "confirm-promotion,approve"/,
    ],
    ['aviary.dev/close-gate', '', /gate names/],
  ])(
    '%s=%j is malformed: no request, and a problem naming what was expected',
    (annotation, value, problem) => {
      const [reading] = readCommands({ [annotation]: value });
      expect(reading?.requests).toEqual([]);
      expect(reading?.problem).toMatch(problem);
    },
  );

  it('tells a Canary with commands from one without', () => {
    expect(hasCommands(undefined)).toBe(false);
    expect(hasCommands({ 'aviary.dev/promoted': 'x', 'example.com/promote': '' })).toBe(false);
    expect(hasCommands({ 'aviary.dev/pause': '' })).toBe(true);
  });
});
