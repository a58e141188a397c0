import { describe, expect, it } from 'vitest';
import { config, VALID_APP, withAnalysis, type Doc } from './app-schema-test-support.js';
import { parseAviaryConfig } from './app-schema.js';

/** The analysis block's path, escaped for a RegExp. */
const ANALYSIS = 'apps\\[0\\]\\.canary\\.analysis';

/** The issues of `document` as `path: message` lines. */
function issuesOf(document: Doc): string[] {
  const result = parseAviaryConfig(document);
  return result.ok ? [] : result.issues.map((issue) => `${issue.path}: ${issue.message}`);
}

function analysisOf(document: Doc) {
  const result = parseAviaryConfig(document);
  if (!result.ok) throw new Error(result.issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
  return result.value.apps[0]!.canary.analysis;
}

describe('analysis.baseline', () => {
  it('is primary by default, and keeps maxWeight at 100 then', () => {
    const analysis = analysisOf(withAnalysis({ maxWeight: undefined }));
    expect(analysis.baseline).toBe('primary');
    expect(analysis.maxWeight).toBe(100);
  });

  it('accepts fresh with maxWeight up to 50, and takes 50 when maxWeight is left out', () => {
    expect(analysisOf(withAnalysis({ baseline: 'fresh', maxWeight: 50 }))).toMatchObject({
      baseline: 'fresh',
      maxWeight: 50,
    });
    expect(analysisOf(withAnalysis({ baseline: 'fresh', maxWeight: undefined })).maxWeight).toBe(50);
  });

  it('refuses fresh with maxWeight above 50, naming the path and the primary share', () => {
    expect(issuesOf(withAnalysis({ baseline: 'fresh', maxWeight: 60 }))).toEqual([
      expect.stringMatching(
        new RegExp(`^${ANALYSIS}\\.maxWeight: expected at most 50 with baseline: fresh, got 60: .*100 - 2 x`),
      ),
    ]);
  });

  it('refuses fresh with a last stepWeights entry above 50', () => {
    const steps = { stepWeight: undefined, maxWeight: undefined, stepWeights: [10, 30, 60] };
    expect(issuesOf(withAnalysis({ baseline: 'fresh', ...steps }))).toEqual([
      expect.stringMatching(new RegExp(`^${ANALYSIS}\\.stepWeights\\[2\\]: expected at most 50`)),
    ]);
  });

  it('refuses fresh without the judge, and with iterations', () => {
    expect(issuesOf(withAnalysis({ baseline: 'fresh', judge: false }))).toEqual([
      expect.stringMatching(new RegExp(`^${ANALYSIS}\\.baseline: baseline: fresh .*judge is false`)),
    ]);
    const blueGreen = { baseline: 'fresh', stepWeight: undefined, maxWeight: undefined, iterations: 5 };
    expect(issuesOf(withAnalysis(blueGreen))).toEqual([
      expect.stringMatching(new RegExp(`^${ANALYSIS}\\.baseline: baseline: fresh needs a weighted canary`)),
    ]);
  });

  it('refuses fresh on an endpoints workload, which cannot start copies', () => {
    const { process: _process, ...app } = VALID_APP as Doc;
    const endpoints = {
      ...app,
      endpoints: { addresses: ['127.0.0.1:9001'] },
      canary: { analysis: { ...VALID_APP.canary.analysis, baseline: 'fresh' } },
    };
    expect(issuesOf({ ...config(), apps: [endpoints] })).toEqual([
      expect.stringMatching(
        new RegExp(`^${ANALYSIS}\\.baseline: baseline: fresh .*endpoints workload .*cannot start copies`),
      ),
    ]);
    const primary = { ...endpoints, canary: { analysis: VALID_APP.canary.analysis } };
    expect(issuesOf({ ...config(), apps: [primary] })).toEqual([]);
  });
});
