import { describe, expect, it } from 'vitest';
import type { MetricResult } from './observations.js';
import { gateVerdict, isReady, metricsVerdict } from './check-verdicts.js';
import { appSpec, observations } from '../../../test/support/rollout-scenario.js';

const analysis = appSpec({
  canary: {
    analysis: {
      stepWeight: 10,
      metrics: [
        { name: 'request-success-rate', thresholdRange: { min: 99 }, minRequests: 50 },
        { name: 'latency', templateRef: { name: 'p95' }, thresholdRange: { max: 300 }, failOnNoData: true },
      ],
      webhooks: [{ name: 'ship', type: 'confirm-promotion', url: 'http://127.0.0.1:1/', muteAlert: true }],
    },
  },
}).canary.analysis;

const pass = (name: string, sampleSize?: number): MetricResult => ({
  name,
  value: 1,
  passed: true,
  ...(sampleSize === undefined ? {} : { sampleSize }),
});

describe('metricsVerdict (no-data policy)', () => {
  it.each<readonly [string, readonly MetricResult[], string]>([
    [
      'all pass; a templated query need not say its sample size',
      [pass('request-success-rate', 50), pass('latency')],
      'pass',
    ],
    ['too few requests hold by default', [pass('request-success-rate', 49), pass('latency')], 'hold'],
    [
      'no value holds by default',
      [{ name: 'request-success-rate', value: null, passed: false }, pass('latency')],
      'hold',
    ],
    [
      'no value fails with failOnNoData',
      [pass('request-success-rate', 80), { name: 'latency', value: null, passed: false }],
      'fail',
    ],
    [
      'a failure wins over a hold',
      [
        { name: 'request-success-rate', value: null, passed: false },
        { name: 'latency', value: 900, passed: false },
      ],
      'fail',
    ],
    ['a missing result fails', [pass('request-success-rate', 80)], 'fail'],
  ])('%s', (_name, metrics, kind) => {
    expect(metricsVerdict(analysis, observations({ checks: { webhooks: [], metrics } })).kind).toBe(kind);
  });
});

describe('gateVerdict and isReady', () => {
  it('holds a gate on the first failing hook, keeping its muteAlert, and fails closed without a result', () => {
    const failing = observations({
      checks: {
        webhooks: [{ type: 'confirm-promotion', name: 'ship', ok: false, message: 'no' }],
        metrics: [],
      },
    });
    expect(gateVerdict(analysis, 'confirm-promotion', failing)).toEqual({
      open: false,
      message: 'confirm-promotion webhook ship: no',
      muteAlert: true,
    });
    const approved = {
      webhooks: [{ type: 'confirm-promotion', name: 'ship', ok: true, message: 'ok' }] as const,
      metrics: [],
    };
    expect(gateVerdict(analysis, 'confirm-promotion', observations({ checks: approved })).open).toBe(true);
    expect(gateVerdict(analysis, 'confirm-promotion', observations()).open).toBe(false);
    expect(gateVerdict(analysis, 'confirm-traffic-increase', observations()).open).toBe(true);
  });

  it('needs the right revision and the ready threshold (rounded down, as Flagger)', () => {
    expect(isReady({ revision: 'r1', replicas: 3, readyReplicas: 1 }, 'r1', 50)).toBe(true);
    expect(isReady({ revision: 'r1', replicas: 3, readyReplicas: 2 }, 'r1', 100)).toBe(false);
    expect(isReady({ revision: 'r0', replicas: 3, readyReplicas: 3 }, 'r1', 100)).toBe(false);
    expect(isReady({ revision: null, replicas: 0, readyReplicas: 0 }, null, 0)).toBe(false);
  });
});
