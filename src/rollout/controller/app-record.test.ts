import { describe, expect, it } from 'vitest';
import { revisionOf } from '../../target/process/version-spec.js';
import {
  eventOf,
  eventsSince,
  newAppRecord,
  persistedOf,
  rememberSpec,
  SPEC_HISTORY,
  type IdentifyVersion,
} from './app-record.js';
import type { ProcessSpec } from '../../config/app-schema.js';
import { appSpec } from '../../../test/support/rollout-scenario.js';

const identify: IdentifyVersion = (spec) => ({
  revision: revisionOf(spec as ProcessSpec),
  replicas: (spec as ProcessSpec).replicas,
});
const version = (n: number) =>
  appSpec({ process: { command: 'node', args: ['server.js'], env: { VERSION: `${n}` } } });

describe('rememberSpec', () => {
  it('replaces the specs a saved state document holds instead of editing them', () => {
    const record = newAppRecord(version(1), undefined, identify);
    rememberSpec(record, version(1), identify);
    const saved = persistedOf(record);
    const before = JSON.stringify(saved);
    const v2 = version(2);
    rememberSpec(record, v2, identify);
    // The state journal compares the next document with this one (ADR 0010).
    expect(JSON.stringify(saved)).toBe(before);
    expect(Object.keys(persistedOf(record).specs)).toEqual([
      version(1).desired.revision,
      v2.desired.revision,
    ]);
  });

  it('keeps the newest revisions, and those a role still runs', () => {
    const record = newAppRecord(version(0), undefined, identify);
    for (let n = 0; n < SPEC_HISTORY + 3; n++) rememberSpec(record, version(n), identify);
    const kept = Object.keys(record.specs);
    expect(kept).toHaveLength(SPEC_HISTORY);
    expect(kept.at(-1)).toBe(version(SPEC_HISTORY + 2).desired.revision);
  });
});

describe('eventsSince', () => {
  it('keeps each app in the order its events happened when the wall clock went back between them', () => {
    const [a, b] = [
      newAppRecord(version(1), undefined, identify),
      newAppRecord(version(2), undefined, identify),
    ];
    const at = (record: typeof a, name: string, time: number) =>
      record.events.push(eventOf(record, name, time, 'WeightAdvanced', `${name}@${time}`));
    at(a, 'a', 5_000_000);
    at(b, 'b', 5_000_500);
    at(a, 'a', 5_001_000);
    // The clock jumped back an hour: a's next events carry earlier times.
    at(a, 'a', 1_401_000);
    at(a, 'a', 1_402_000);
    at(b, 'b', 5_001_500);
    const messages = (records: (typeof a)[]) => eventsSince(records, 0).map((e) => e.message);
    expect(messages([a])).toEqual(['a@5000000', 'a@5001000', 'a@1401000', 'a@1402000']);
    expect(messages([a, b])).toEqual([
      'a@5000000',
      'b@5000500',
      'a@5001000',
      'a@1401000',
      'a@1402000',
      'b@5001500',
    ]);
  });
});
