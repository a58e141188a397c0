import { describe, expect, it } from 'vitest';
import { ERROR_ALPHA_SHARE, splitAlpha } from './alpha-split.js';

describe('splitAlpha', () => {
  it('splits α so that the parts add up to the total', () => {
    for (const quantiles of [[0.5], [0.5, 0.9, 0.99], [0.1, 0.2, 0.3, 0.4, 0.5]]) {
      const split = splitAlpha({ alpha: 0.02, quantiles });
      expect(split.errors + split.tail + split.perQuantile * quantiles.length).toBeCloseTo(0.02, 15);
      expect(split.tail).toBeCloseTo(split.perQuantile * quantiles.length, 15);
      expect(split.perBand * 2).toBeCloseTo(split.perQuantile, 15);
    }
  });

  it('gives the error-count test its share of α', () => {
    expect(splitAlpha({ alpha: 0.01, quantiles: [0.5] }).errors).toBeCloseTo(0.01 * ERROR_ALPHA_SHARE, 15);
  });
});
