import { describe, expect, it } from 'vitest';
import { revisionOf } from '../../target/process/version-spec.js';
import { newAppRecord, persistedOf, rememberSpec, SPEC_HISTORY, type IdentifyVersion } from './app-record.js';
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
