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
    });
    expect(parseJudgeConfig(undefined)).toEqual(DEFAULT_JUDGE_CONFIG);
  });

  it('names each bad field with its path and what was expected', () => {
    let caught: unknown;
    try {
      parseJudgeConfig({ alpha: 2, quantiles: [0.5, 1.5], minEffect: { relativ: 0.2 }, earlyPromotion: {} });
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
        { path: 'earlyPromotion.nonInferiorityMargin', message: 'is required (expected a number)' },
      ]),
    );
    expect(error.message).toMatch(/^analysis\.judge is invalid:/);
  });

  it('rejects repeated quantiles', () => {
    expect(() => parseJudgeConfig({ quantiles: [0.9, 0.9] })).toThrow(/expected distinct quantiles/);
  });
});
