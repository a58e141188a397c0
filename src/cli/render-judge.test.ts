// The judge's evidence as `aviary get events` prints it, from evidence the real judge computed
// on deterministic traffic and sent through JSON as the API does.
import { describe, expect, it } from 'vitest';
import { judgeStep } from '../analysis/judge.js';
import { initJudgeState } from '../analysis/judge-state.js';
import { LatencySketch } from '../analysis/latency-sketch.js';
import { parseJudgeConfig } from '../config/app-judge.js';
import type { RolloutEventRecord } from '../rollout/controller/action-executor.js';
import { renderEvents } from './get-events-command.js';
import {
  formatNumber,
  judgeCheckOf,
  judgeLines,
  judgeOneLiner,
  nextMoveLine,
  type JudgeCheck,
} from './render-judge.js';
import { checkLines, watchBlock, type RolloutSummary } from './render-rollout.js';
import { PLAIN, stripAnsi, type TerminalStyle } from './render-terminal.js';

const CONFIG = parseJudgeConfig({ minCanaryRequests: 20 });
const TTY: TerminalStyle = { colour: true, redraw: true, columns: 100 };

/** `requests` requests of which every `1/errorEvery`-th fails, latencies spread over 5..15 × `ms`/10. */
function window(requests: number, errorEvery: number, ms: number) {
  const latency = new LatencySketch();
  for (let i = 0; i < requests; i++) latency.add((ms * (5 + (i % 11))) / 10);
  return { requests, errors: errorEvery > 0 ? Math.floor(requests / errorEvery) : 0, latency };
}

/** The judge's check result after `seconds` seconds at 95 primary and 5 canary requests a second. */
function judgeAfter(seconds: number, canaryErrorEvery: number, canaryMs = 10): JudgeCheck {
  let state = initJudgeState();
  for (let t = 0; t < seconds; t++) {
    const step = judgeStep(
      state,
      { primary: window(95, 0, 10), canary: window(5, canaryErrorEvery, canaryMs), canaryWeight: 5 },
      CONFIG,
    );
    state = step.state;
    if (step.decision === 'regression' || t === seconds - 1) {
      // Through JSON, as events reach the CLI: non-finite numbers become null.
      const evidence: unknown = JSON.parse(JSON.stringify({ decision: step.decision, ...step.evidence }));
      const check = judgeCheckOf({ webhooks: [], metrics: [{ name: 'judge', detail: 'held', evidence }] });
      if (check === undefined) throw new Error('no judge evidence found');
      return check;
    }
  }
  throw new Error('unreachable');
}

const event = (reason: string, evidence?: unknown): RolloutEventRecord => ({
  at: Date.UTC(2026, 0, 1, 12, 0, 0),
  app: 'catalogdetail',
  reason,
  message: `${reason} message`,
  severity: 'info',
  phase: 'Progressing',
  canaryWeight: 5,
  ...(evidence === undefined ? {} : { evidence }),
});

describe('judgeLines', () => {
  it('shows a regression: counts per version, the error test over its threshold, the bounds over maxHarm', () => {
    const check = judgeAfter(30, 2);
    expect(check.evidence.errors.regression).toBe(true);
    const lines = judgeLines(check);
    const text = lines.join('\n');
    const { canary, primary } = check.evidence.errors;
    expect(text).toContain(
      `canary ${canary.requests} requests, ${canary.errors} errors (${((canary.errors / canary.requests) * 100).toFixed(2)}%)`,
    );
    expect(text).toContain(`primary ${primary.requests} requests, 0 errors (0.00%)`);
    const errorsRow = (lines.find((l) => l.trimStart().startsWith('errors')) ?? '').trim().split(/\s{2,}/);
    // e-value, the threshold 1/α it rejects at, p-value and α share, the verdict, the bound.
    const { alpha, logEValue, pValue } = check.evidence.errors;
    expect(errorsRow.slice(0, 6)).toEqual([
      'errors',
      formatNumber(Math.exp(logEValue)),
      `≥ ${formatNumber(1 / alpha)}`,
      formatNumber(pValue),
      formatNumber(alpha),
      'regression',
    ]);
    expect(errorsRow.slice(6)).toEqual([
      `< ${(check.evidence.harm!.errors.excessUpper * 100).toFixed(2)} pp`,
      '0.50 pp',
      expect.stringMatching(/^over by [\d.]+ pp$/),
    ]);
    expect(Math.exp(logEValue)).toBeGreaterThanOrEqual(1 / alpha);
    expect(text).toContain('next    regression: the canary is rolled back');
    expect(lines.every((l) => l.startsWith('    '))).toBe(true);
  });

  it('shows a latency regression at its quantile and the tail test', () => {
    const check = judgeAfter(60, 0, 200);
    expect(check.evidence.latency.some((l) => l.regression) || check.evidence.tail.regression).toBe(true);
    const rows = judgeLines(check).filter((l) => /^\s+(p\d|tail)/.test(l));
    expect(rows.map((r) => r.trim().split(/\s+/)[0])).toEqual(['p50', 'p90', 'p99', 'tail']);
    expect(rows.some((r) => r.includes('regression'))).toBe(true);
    expect(rows[0]).toContain(`≥ ${formatNumber(1 / check.evidence.latency[0]!.alpha)}`);
  });

  it('while the bounds hold a healthy canary: the hold line and ~N more canary requests before promotion', () => {
    const check = judgeAfter(40, 0);
    const harm = check.evidence.harm!;
    expect(harm.withinMaxHarm).toBe(false);
    expect(harm.moreCanaryRequestsToPromote).toBeGreaterThan(0);
    const text = judgeLines({
      ...check,
      detail: 'gathering evidence before weight 10%: ~80 more canary requests',
    }).join('\n');
    expect(text).toContain('judge   gathering evidence before weight 10%');
    expect(nextMoveLine(check.evidence)).toBe(
      `gathering evidence: ~${harm.moreCanaryRequestsToPromote} more canary requests before promotion (steps allowed up to ${Math.floor(harm.allowedWeight)}%)`,
    );
    // Latency bounds within maxHarm say by how much.
    expect(text).toMatch(/p50 .*< [\d.]+ ms\s+10\.0 ms\s+within by [\d.]+ ms/);
  });

  it('before the minimum of canary requests, counts them', () => {
    const check = judgeAfter(2, 0);
    expect(nextMoveLine(check.evidence)).toBe('gathering evidence: 10 of 20 canary requests before any step');
  });

  it('is plain text off a terminal, and coloured and cut to its width on one', () => {
    const check = judgeAfter(30, 2);
    expect(judgeLines(check, PLAIN).join('\n')).not.toContain('\u001b[');
    const coloured = judgeLines(check, TTY);
    expect(coloured.join('\n')).toContain('\u001b[');
    for (const line of coloured) expect([...stripAnsi(line)].length).toBeLessThan(100);
  });
});

describe('nextMoveLine without traffic to compare', () => {
  it('says there are no requests to compare yet, not that the excess is beyond maxHarm', () => {
    const { evidence } = judgeAfter(40, 0);
    const noCanary = {
      ...evidence,
      canaryRequests: 0,
      minCanaryRequests: 0,
      errors: { ...evidence.errors, canary: { requests: 0, errors: 0, rate: null } },
      harm: { ...evidence.harm!, moreCanaryRequestsToPromote: null },
    };
    expect(nextMoveLine(noCanary)).toMatch(
      /^gathering evidence: no requests to compare yet \(steps allowed up to \d+%\)$/,
    );
  });
});

describe('formatNumber', () => {
  it('keeps three significant digits and switches to exponents for the very large and small', () => {
    expect(formatNumber(133.333)).toBe('133');
    expect(formatNumber(0.000625)).toBe('0.000625');
    expect(formatNumber(6580.4)).toBe('6580');
    expect(formatNumber(364_000)).toBe('3.6e+5');
    expect(formatNumber(0.0000028)).toBe('2.8e-6');
    expect(formatNumber(null)).toBe('–');
  });
});

describe('renderEvents', () => {
  it('prints the judge evidence under the first event that carries it, once per change', () => {
    const held = judgeAfter(40, 0);
    const failed = judgeAfter(30, 2);
    const checks = (c: JudgeCheck) => ({
      webhooks: [],
      metrics: [{ name: 'judge', detail: c.detail, evidence: c.evidence }],
    });
    const lines = renderEvents(PLAIN, [
      event('Synced'),
      event('Holding', checks(held)),
      event('Holding again', checks(held)),
      event('RegressionDetected', checks(failed)),
    ]);
    expect(lines[0]).toMatch(/^TIME\s+APP\s+REASON\s+MESSAGE$/);
    expect(lines[1]).toContain('Synced message');
    expect(lines[2]).toContain('Holding message');
    expect(lines[3]).toMatch(/^ {4}judge {3}held$/);
    const again = lines.findIndex((l) => l.includes('Holding again message'));
    const regression = lines.findIndex((l) => l.includes('RegressionDetected message'));
    expect(regression).toBe(again + 1);
    expect(lines.slice(regression + 1).join('\n')).toContain('regression');
    expect(lines.filter((l) => l.trimStart().startsWith('counts'))).toHaveLength(2);
  });

  it('leaves events without judge evidence as the plain table', () => {
    const lines = renderEvents(PLAIN, [
      event('Synced', {
        webhooks: [],
        metrics: [{ name: 'request-success-rate', value: 100, passed: true }],
      }),
    ]);
    expect(lines).toHaveLength(2);
  });
});

describe('aviary watch', () => {
  const summary = (metric: Record<string, unknown>): RolloutSummary => ({
    app: 'catalogdetail',
    revision: '3f2a9c1d0b7e',
    status: undefined,
    lastChecks: { webhooks: [], metrics: [metric as never] },
    routing: { kind: 'set-routes', primaryWeight: 90, canaryWeight: 10, mirror: false, abTesting: false },
    pendingCommands: 0,
  });

  it("shows a judge's hold as its reason, not as missing values", () => {
    const held = judgeAfter(40, 0);
    const detail = 'gathering evidence before weight 10%: ~80 more canary requests';
    const view = summary({ name: 'judge', value: null, passed: false, detail, evidence: held.evidence });
    expect(checkLines(view)).toEqual([{ passed: false, name: 'judge', detail }]);
  });

  it("draws the judge's evidence in one line under its check", () => {
    const failed = judgeAfter(30, 2);
    const { canary, primary } = failed.evidence.errors;
    const line = judgeOneLiner(failed.evidence);
    expect(line).toContain(`canary ${canary.errors} of ${canary.requests} failed`);
    expect(line).toContain(`primary 0 of ${primary.requests} (0.00%)`);
    expect(line).toContain(
      `e-values errors ${formatNumber(Math.exp(failed.evidence.errors.logEValue))}/${formatNumber(1 / failed.evidence.errors.alpha)}, p50 `,
    );
    expect(line).toMatch(/error-rate excess < [\d.]+ pp \(maxHarm 0\.50 pp\)$/);
    const view = summary({
      name: 'judge',
      value: 0.0001,
      passed: false,
      detail: failed.evidence.summary,
      evidence: failed.evidence,
    });
    const block = watchBlock(PLAIN, view, undefined);
    const at = block.findIndex((l) => l.includes('✗ judge'));
    expect(block[at + 1]?.trim()).toBe(line);
  });
});
