import { describe, expect, it } from 'vitest';
import type { AlertSeverity } from './alert-types.js';
import { receivesSeverity } from './severity.js';

describe('receivesSeverity', () => {
  // Flagger: info receives everything, warn receives warn and error, error receives error only.
  it.each<[AlertSeverity, AlertSeverity, boolean]>([
    ['info', 'info', true],
    ['info', 'warn', true],
    ['info', 'error', true],
    ['warn', 'info', false],
    ['warn', 'warn', true],
    ['warn', 'error', true],
    ['error', 'info', false],
    ['error', 'warn', false],
    ['error', 'error', true],
  ])('an alert subscribed at %s receives %s: %s', (subscribed, severity, expected) => {
    expect(receivesSeverity(subscribed, severity)).toBe(expected);
  });
});
