import { describe, expect, it } from 'vitest';
import { withAnalysis } from './app-schema-test-support.js';
import { parseAviaryConfig } from './app-schema.js';
import { judgeUnsupported, judgeUnsupportedReason } from './judge-support.js';

const AB_MATCH = [{ headers: { 'x-canary': { exact: 'insider' } } }];
const AFFINITY = { cookieName: 'canary' };

describe('judgeUnsupportedReason', () => {
  it('accepts a weighted canary routed per request', () => {
    expect(judgeUnsupportedReason({})).toBeUndefined();
    expect(judgeUnsupportedReason({ match: [] })).toBeUndefined();
    expect(judgeUnsupported({ match: [], sessionAffinity: undefined })).toBeUndefined();
  });

  it('names A/B routing: the versions serve different users', () => {
    expect(judgeUnsupported({ match: AB_MATCH })?.field).toBe('match');
    expect(judgeUnsupportedReason({ match: AB_MATCH })).toMatch(/different users, not versions/);
  });

  it('names session affinity: requests are not routed independently of their outcomes', () => {
    expect(judgeUnsupported({ sessionAffinity: AFFINITY })?.field).toBe('sessionAffinity');
    expect(judgeUnsupportedReason({ sessionAffinity: AFFINITY })).toMatch(
      /not routed independently of their outcomes/,
    );
  });

  it('reports A/B first when both are set', () => {
    expect(judgeUnsupported({ match: AB_MATCH, sessionAffinity: AFFINITY })?.field).toBe('match');
  });
});

describe('aviary.yaml: analysis.judge where it cannot be valid', () => {
  const issuesOf = (analysis: Record<string, unknown>) => {
    const result = parseAviaryConfig(withAnalysis(analysis));
    return result.ok ? [] : result.issues;
  };

  it('refuses an explicit judge with session affinity, at the judge path, saying why', () => {
    expect(issuesOf({ judge: {}, sessionAffinity: AFFINITY })).toEqual([
      {
        path: 'apps[0].canary.analysis.judge',
        message: expect.stringMatching(
          /^the judge cannot be used with analysis\.sessionAffinity: session affinity .* keeps each client on one version/,
        ),
      },
    ]);
  });

  it('refuses an explicit judge with A/B match rules, at the judge path, saying why', () => {
    expect(issuesOf({ judge: {}, iterations: 10, match: AB_MATCH })).toEqual([
      {
        path: 'apps[0].canary.analysis.judge',
        message: expect.stringMatching(
          /^the judge cannot be used with analysis\.match: A\/B routing .* compare different users, not versions/,
        ),
      },
    ]);
  });

  it('accepts the judge on a weighted canary, and sticky or A/B analyses without it', () => {
    expect(issuesOf({ judge: {} })).toEqual([]);
    expect(issuesOf({ sessionAffinity: AFFINITY })).toEqual([]);
    expect(issuesOf({ iterations: 10, match: AB_MATCH })).toEqual([]);
  });

  it('leaves the default judge off for sticky and A/B analyses, and on for a weighted canary', () => {
    const judgeOf = (analysis: Record<string, unknown>) => {
      const result = parseAviaryConfig(withAnalysis(analysis));
      if (!result.ok) throw new Error(JSON.stringify(result.issues));
      return result.value.apps[0]!.canary.analysis.judge;
    };
    expect(judgeOf({ sessionAffinity: AFFINITY })).toBeUndefined();
    expect(judgeOf({ iterations: 10, match: AB_MATCH })).toBeUndefined();
    expect(judgeOf({})).toBeDefined();
  });
});
