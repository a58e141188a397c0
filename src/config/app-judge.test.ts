import { describe, expect, it } from 'vitest';
import { DEFAULT_JUDGE_CONFIG, parseJudgeConfig } from './app-judge.js';
import { ConfigError } from './config-error.js';

describe('analysis.judge configuration', () => {
  it('fills every default from an empty object', () => {
    expect(DEFAULT_JUDGE_CONFIG).toEqual({
      alpha: 0.01,
      lookInterval: 1000,
      quantiles: [0.5, 0.9, 0.99],
      minEffect: { relative: 0.1, absoluteMs: 5 },
      minCanaryRequests: 100,
      maxHarm: {
        errorRate: { absolute: 0.005, relative: 1 },
        latency: { relative: 0.25, absoluteMs: 10 },
      },
    });
    expect(parseJudgeConfig(undefined)).toEqual(DEFAULT_JUDGE_CONFIG);
  });

  it('names each bad field with its path and what was expected', () => {
    let caught: unknown;
    try {
      parseJudgeConfig({
        alpha: 2,
        quantiles: [0.5, 1.5],
        minEffect: { relativ: 0.2 },
        maxHarm: { errorRate: { absolute: 0 } },
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.code).toBe('AVIARY_CONFIG_INVALID');
    expect(error.issues).toEqual(
      expect.arrayContaining([
        { path: 'alpha', message: 'expected a number < 0.5, got 2' },
        { path: 'quantiles[1]', message: 'expected a number < 1, got 1.5' },
        { path: 'minEffect.relativ', message: 'unknown field (check the spelling)' },
        { path: 'maxHarm.errorRate.absolute', message: 'expected a number > 0, got 0' },
      ]),
    );
    expect(error.message).toMatch(/^analysis\.judge is invalid:/);
  });

  it('fills maxHarm defaults around a partial setting, and no longer takes earlyPromotion', () => {
    expect(parseJudgeConfig({ maxHarm: { errorRate: { absolute: 0.01 } } }).maxHarm).toEqual({
      errorRate: { absolute: 0.01, relative: 1 },
      latency: { relative: 0.25, absoluteMs: 10 },
    });
    expect(() => parseJudgeConfig({ earlyPromotion: { nonInferiorityMargin: 0.1 } })).toThrow(
      /earlyPromotion/,
    );
  });

  it('rejects repeated quantiles', () => {
    expect(() => parseJudgeConfig({ quantiles: [0.9, 0.9] })).toThrow(/expected distinct quantiles/);
  });
});
