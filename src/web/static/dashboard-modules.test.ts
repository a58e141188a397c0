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
