/**
 * The pure formatting of judge-evidence.js, run in Node on evidence the real judge computed on
 * deterministic traffic and sent through JSON, as the dashboard receives it. What the user
 * sees of it in a browser is tested in Chromium (test/web/judge-evidence.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { judgeStep } from '../../analysis/judge.js';
import type { JudgeEvidence } from '../../analysis/judge-decision.js';
import { initJudgeState } from '../../analysis/judge-state.js';
import { LatencySketch } from '../../analysis/latency-sketch.js';
import { parseJudgeConfig } from '../../config/app-judge.js';

interface TestRow {
  name: string;
  eValue: string;
  rejectsAt: string;
  pValue: string;
  alpha: string;
  verdict: string;
  bound: string;
  allowed: string;
  margin: string;
  within: boolean | null;
}
type Evidence = JudgeEvidence & { decision: string };
interface Check {
  detail: string | undefined;
  evidence: Evidence;
}

// Browser modules have no type declarations: import by URL and state the shape used here.
const judge = (await import(new URL('./judge-evidence.js', import.meta.url).href)) as {
  isJudgeEvidence(value: unknown): boolean;
  judgeCheckOf(results: unknown): Check | undefined;
  formatNumber(value: number | null): string;
  countRows(evidence: Evidence): { version: string; requests: number; errors: number; rate: string }[];
  testRows(evidence: Evidence): TestRow[];
  nextMoveLine(evidence: Evidence): string;
};

const CONFIG = parseJudgeConfig({ minCanaryRequests: 20 });

/** `requests` requests of which every `errorEvery`-th fails, latencies spread over 0.5..1.5 × `ms`. */
function window(requests: number, errorEvery: number, ms: number) {
  const latency = new LatencySketch();
  for (let i = 0; i < requests; i++) latency.add((ms * (5 + (i % 11))) / 10);
  return { requests, errors: errorEvery > 0 ? Math.floor(requests / errorEvery) : 0, latency };
}

/** The judge check's results after `seconds` s at 95 primary and 5 canary requests a second, as JSON. */
function checksAfter(seconds: number, canaryErrorEvery: number, canaryMs = 10): unknown {
  let state = initJudgeState();
  for (let t = 0; ; t++) {
    const step = judgeStep(
      state,
      { primary: window(95, 0, 10), canary: window(5, canaryErrorEvery, canaryMs), canaryWeight: 5 },
      CONFIG,
    );
    state = step.state;
    if (step.decision === 'regression' || t === seconds - 1) {
      const evidence = { decision: step.decision, ...step.evidence };
      return JSON.parse(
        JSON.stringify({ webhooks: [], metrics: [{ name: 'judge', detail: 'the detail', evidence }] }),
      );
    }
  }
}

function checkOf(results: unknown): Check {
  const check = judge.judgeCheckOf(results);
  if (check === undefined) throw new Error('no judge evidence found');
  return check;
}

describe('judgeCheckOf', () => {
  it("finds the judge's check among check results, or takes evidence as is", () => {
    const check = checkOf(checksAfter(30, 2));
    expect(check.detail).toBe('the detail');
    expect(judge.isJudgeEvidence(check.evidence)).toBe(true);
    expect(judge.judgeCheckOf(check.evidence)).toEqual({ detail: undefined, evidence: check.evidence });
    const threshold = { webhooks: [], metrics: [{ name: 'request-success-rate', value: 99, passed: true }] };
    expect(judge.judgeCheckOf(threshold)).toBeUndefined();
    expect(judge.judgeCheckOf({ provider: 'prometheus', query: 'up' })).toBeUndefined();
  });
});

describe('judge evidence rows', () => {
  it('of an error regression: counts, the error test past 1/α, the bound over maxHarm', () => {
    const { evidence } = checkOf(checksAfter(30, 2));
    const { canary, primary } = evidence.errors;
    expect(judge.countRows(evidence)).toEqual([
      { version: 'primary', requests: primary.requests, errors: 0, rate: '0.00%' },
      {
        version: 'canary',
        requests: canary.requests,
        errors: canary.errors,
        rate: `${((canary.errors / canary.requests) * 100).toFixed(2)}%`,
      },
    ]);
    const [errors] = judge.testRows(evidence);
    expect(errors).toMatchObject({
      name: 'errors',
      eValue: judge.formatNumber(Math.exp(evidence.errors.logEValue)),
      rejectsAt: `≥ ${judge.formatNumber(1 / evidence.errors.alpha)}`,
      pValue: judge.formatNumber(evidence.errors.pValue),
      alpha: judge.formatNumber(evidence.errors.alpha),
      verdict: 'regression',
      bound: `< ${(evidence.harm!.errors.excessUpper * 100).toFixed(2)} pp`,
      allowed: '0.50 pp',
      within: false,
    });
    expect(errors?.margin).toMatch(/^over by [\d.]+ pp$/);
    expect(judge.nextMoveLine(evidence)).toBe('regression: the canary is rolled back');
  });

  it('of a latency regression: a row per quantile and the tail test, one of them a regression', () => {
    const { evidence } = checkOf(checksAfter(60, 0, 200));
    const rows = judge.testRows(evidence);
    expect(rows.map((r) => r.name)).toEqual(['errors', 'p50', 'p90', 'p99', 'tail']);
    expect(rows.some((r) => r.verdict === 'regression')).toBe(true);
    // The tail test has no harm bound of its own.
    expect(rows.at(-1)).toMatchObject({ bound: '', allowed: '', margin: '' });
  });

  it('of a healthy canary the bounds hold: margins, and ~N more canary requests before promotion', () => {
    const { evidence } = checkOf(checksAfter(40, 0));
    const harm = evidence.harm!;
    expect(harm.withinMaxHarm).toBe(false);
    expect(judge.nextMoveLine(evidence)).toBe(
      `gathering evidence: ~${harm.moreCanaryRequestsToPromote} more canary requests before promotion (steps allowed up to ${Math.floor(harm.allowedWeight)}%)`,
    );
    const p50 = judge.testRows(evidence).find((r) => r.name === 'p50');
    expect(p50).toMatchObject({ verdict: '', allowed: '10.0 ms', within: true });
    expect(p50?.margin).toMatch(/^within by [\d.]+ ms$/);
  });

  it('below the minimum of canary requests, counts them', () => {
    const { evidence } = checkOf(checksAfter(2, 0));
    expect(judge.nextMoveLine(evidence)).toBe('gathering evidence: 10 of 20 canary requests before any step');
  });
});

describe('nextMoveLine without traffic to compare', () => {
  it('says there are no requests to compare yet, not that the excess is beyond maxHarm', () => {
    const { evidence } = checkOf(checksAfter(40, 0));
    const empty = { requests: 0, errors: 0, rate: null };
    const noCanary = {
      ...evidence,
      canaryRequests: 0,
      minCanaryRequests: 0,
      errors: { ...evidence.errors, canary: empty },
      harm: { ...evidence.harm, moreCanaryRequestsToPromote: null },
    } as unknown as Evidence;
    expect(judge.nextMoveLine(noCanary)).toMatch(
      /^gathering evidence: no requests to compare yet \(steps allowed up to \d+%\)$/,
    );
  });
});

describe('formatNumber', () => {
  it('keeps three significant digits and switches to exponents for the very large and small', () => {
    expect(judge.formatNumber(133.333)).toBe('133');
    expect(judge.formatNumber(0.000625)).toBe('0.000625');
    expect(judge.formatNumber(364_000)).toBe('3.6e+5');
    expect(judge.formatNumber(0.0000028)).toBe('2.8e-6');
    expect(judge.formatNumber(null)).toBe('–');
  });
});
