/**
 * The pure functions of the dashboard's browser modules, run in Node: the modules touch the
 * DOM and `window` only when called, so their pure parts import without a browser. What the
 * user sees of them is tested in Chromium (test/web/dashboard.test.ts).
 */
import { describe, expect, it } from 'vitest';

interface CheckResult {
  name: string;
  value: number | null;
  sampleSize?: number;
  passed: boolean;
  error?: string;
}
interface MetricSpec {
  minRequests: number;
  failOnNoData: boolean;
}

// Browser modules have no type declarations: import by URL and state the shape used here.
const checksTable = (await import(new URL('./checks-table.js', import.meta.url).href)) as {
  checkVerdict(
    result: CheckResult | undefined,
    spec: MetricSpec | undefined,
  ): { text: string; className: string };
  formatMetric(name: string, value: number | null): string;
};
const controlClient = (await import(new URL('./control-client.js', import.meta.url).href)) as {
  refusalMessage(status: number, apiMessage: string): string;
};
const lineChart = (await import(new URL('./line-chart.js', import.meta.url).href)) as {
  timeAgo(ms: number): string;
};

interface RunFields {
  id: string;
  state: string;
  ref: string;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  reason?: string;
  errors?: string[];
}
const pipelineRuns = (await import(new URL('./pipeline-runs.js', import.meta.url).href)) as {
  isTerminalState(state: string): boolean;
  stateBadge(state: string): { text: string; className: string };
  refName(ref: string): string;
  shortCommit(commit: string | undefined): string;
  formatDuration(ms: number): string;
  runDuration(run: RunFields, now: number): number | undefined;
  runDetail(run: RunFields): string;
  newestFirst(a: string, b: string): number;
};
const pipelineLog = (await import(new URL('./pipeline-log.js', import.meta.url).href)) as {
  logPath(run: RunFields): string;
};

const SPEC: MetricSpec = { minRequests: 10, failOnNoData: false };

describe('checkVerdict', () => {
  it('says insufficient data, not passed, below the minimum of requests (5 of min 10)', () => {
    const result = { name: 'request-success-rate', value: 100, sampleSize: 5, passed: true };
    expect(checksTable.checkVerdict(result, SPEC)).toEqual({
      text: 'insufficient data: hold',
      className: 'pending',
    });
    expect(checksTable.checkVerdict(result, { ...SPEC, failOnNoData: true })).toEqual({
      text: 'insufficient data: failed',
      className: 'failed',
    });
  });

  it('passes or fails on the value from the minimum of requests on', () => {
    const result = { name: 'request-success-rate', value: 100, sampleSize: 10, passed: true };
    expect(checksTable.checkVerdict(result, SPEC).text).toBe('passed');
    expect(checksTable.checkVerdict({ ...result, passed: false }, SPEC).text).toBe('failed');
    // Templated queries cannot count requests: the value decides.
    expect(checksTable.checkVerdict({ name: 'q', value: 3, passed: true }, SPEC).text).toBe('passed');
  });

  it('names a missing value, a judge still counting, an error and a check not run', () => {
    expect(checksTable.checkVerdict({ name: 'q', value: null, passed: false }, SPEC).text).toBe(
      'no data: hold',
    );
    expect(
      checksTable.checkVerdict({ name: 'judge', value: null, sampleSize: 3, passed: false }, SPEC).text,
    ).toBe('insufficient data: hold');
    expect(
      checksTable.checkVerdict({ name: 'q', value: null, passed: false, error: 'down' }, SPEC).text,
    ).toBe('error');
    expect(checksTable.checkVerdict(undefined, SPEC).text).toBe('not run yet');
  });
});

describe('formatMetric', () => {
  it("shows the judge's value as the p-value it is", () => {
    expect(checksTable.formatMetric('judge', 4.89e-10)).toBe('p = 4.9e-10');
    expect(checksTable.formatMetric('judge', 0.0123)).toBe('p = 0.012');
    expect(checksTable.formatMetric('request-success-rate', 99.5)).toBe('99.50 %');
  });
});

describe('refusalMessage', () => {
  it('says the token is wrong on a 401, and keeps the API message otherwise', () => {
    const generic = 'this call changes state: send "Authorization: Bearer <token>" (AVIARY_UNAUTHORIZED)';
    expect(controlClient.refusalMessage(401, generic)).toMatch(/^wrong token: /);
    expect(controlClient.refusalMessage(409, 'rollout x is not running (AVIARY_CONFLICT)')).toBe(
      'rollout x is not running (AVIARY_CONFLICT)',
    );
  });
});

describe('timeAgo', () => {
  it('labels a short run in seconds and a long one in minutes', () => {
    expect(lineChart.timeAgo(0)).toBe('now');
    expect(lineChart.timeAgo(30_000)).toBe('-30s');
    expect(lineChart.timeAgo(60_000)).toBe('-60s');
    expect(lineChart.timeAgo(150_000)).toBe('-2.5m');
    expect(lineChart.timeAgo(300_000)).toBe('-5m');
  });
});

const RUN: RunFields = {
  id: 'run-20261204T040000000Z-0000',
  state: 'running',
  ref: 'refs/tags/v2.0.0',
  createdAt: '2026-12-04T04:00:00.000Z',
};

describe('pipeline runs', () => {
  it('badges each state with its colour class, an unknown state neutral', () => {
    expect(pipelineRuns.stateBadge('succeeded')).toEqual({ text: 'succeeded', className: 'state passed' });
    expect(pipelineRuns.stateBadge('timed-out').className).toBe('state failed');
    expect(pipelineRuns.stateBadge('interrupted').className).toBe('state failed');
    expect(pipelineRuns.stateBadge('running').className).toBe('state running');
    expect(pipelineRuns.stateBadge('queued').className).toBe('state pending');
    expect(pipelineRuns.stateBadge('later').className).toBe('state unknown');
    expect(['queued', 'running'].map((state) => pipelineRuns.isTerminalState(state))).toEqual([false, false]);
    expect(pipelineRuns.isTerminalState('skipped')).toBe(true);
  });

  it('shortens refs and commits', () => {
    expect(pipelineRuns.refName('refs/tags/v2.0.0')).toBe('v2.0.0');
    expect(pipelineRuns.refName('refs/heads/release/2')).toBe('release/2');
    expect(pipelineRuns.refName('refs/notes/x')).toBe('refs/notes/x');
    expect(pipelineRuns.shortCommit('0123456789abcdef0123456789abcdef01234567')).toBe('0123456');
    expect(pipelineRuns.shortCommit(undefined)).toBe('–');
  });

  it('formats durations from milliseconds to hours', () => {
    expect(pipelineRuns.formatDuration(850)).toBe('850ms');
    expect(pipelineRuns.formatDuration(12_470)).toBe('12.4s');
    expect(pipelineRuns.formatDuration(125_000)).toBe('2m 05s');
    expect(pipelineRuns.formatDuration(3_720_000)).toBe('1h 02m');
  });

  it('times a run from its start to its end, or to now while it runs', () => {
    const now = Date.parse('2026-12-04T04:00:30.000Z');
    expect(pipelineRuns.runDuration(RUN, now)).toBeUndefined();
    const started = { ...RUN, startedAt: '2026-12-04T04:00:01.000Z' };
    expect(pipelineRuns.runDuration(started, now)).toBe(29_000);
    expect(pipelineRuns.runDuration({ ...started, endedAt: '2026-12-04T04:00:06.500Z' }, now)).toBe(5_500);
  });

  it('says how a run ended: its reason, else its first error and how many more', () => {
    expect(pipelineRuns.runDetail(RUN)).toBe('');
    expect(pipelineRuns.runDetail({ ...RUN, reason: 'step 2 exited with code 3' })).toBe(
      'step 2 exited with code 3',
    );
    expect(pipelineRuns.runDetail({ ...RUN, errors: ['ref: expected a tag', 'after: bad'] })).toBe(
      'ref: expected a tag (+1 more)',
    );
  });

  it('orders run ids newest first, the counter as a number', () => {
    const ids = [
      'run-20261204T040000000Z-0009',
      'run-20261204T040000001Z-0000',
      'run-20261204T040000000Z-10000',
    ];
    expect([...ids].sort((a, b) => pipelineRuns.newestFirst(a, b))).toEqual([ids[1], ids[2], ids[0]]);
  });

  it('follows the log of a run that has not ended, and reads an ended one once', () => {
    expect(pipelineLog.logPath(RUN)).toBe('/api/v1/pipelines/runs/run-20261204T040000000Z-0000/log?follow=1');
    expect(pipelineLog.logPath({ ...RUN, state: 'failed' })).toBe(
      '/api/v1/pipelines/runs/run-20261204T040000000Z-0000/log',
    );
  });
});
