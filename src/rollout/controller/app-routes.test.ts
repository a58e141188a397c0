import { describe, expect, it } from 'vitest';
import { appSpec } from '../../../test/support/rollout-scenario.js';
import { appRouteSpec, routeStateOf } from './app-routes.js';

const app = appSpec({
  canary: { analysis: { stepWeight: 10, maxWeight: 50, judge: {}, baseline: 'fresh' } },
});
const action = {
  kind: 'set-routes',
  primaryWeight: 60,
  canaryWeight: 20,
  baselineWeight: 20,
  mirror: false,
  abTesting: false,
} as const;

describe('app routes with a fresh baseline', () => {
  it('routes the baseline its weight and lists it as a version while it has endpoints', () => {
    const endpoints = { primary: ['127.0.0.1:1'], canary: ['127.0.0.1:2'], baseline: ['127.0.0.1:3'] };
    expect(routeStateOf(app, action, endpoints)).toEqual({
      weights: { primary: 60, canary: 20, baseline: 20 },
    });
    expect(appRouteSpec(app, endpoints).versions.map((v) => v.name)).toEqual([
      'primary',
      'canary',
      'baseline',
    ]);
  });

  it('gives a baseline without ready endpoints no share: its weight goes to the primary', () => {
    const endpoints = { primary: ['127.0.0.1:1'], canary: ['127.0.0.1:2'], baseline: [] };
    expect(routeStateOf(app, action, endpoints)).toEqual({ weights: { primary: 80, canary: 20 } });
    expect(appRouteSpec(app, endpoints).versions.map((v) => v.name)).toEqual(['primary', 'canary']);
  });
});

describe('app routes and request timeouts', () => {
  const endpoints = { primary: ['127.0.0.1:1'], canary: ['127.0.0.1:2'] };
  const withTimeout = (timeout?: number) =>
    appSpec({
      canary: {
        analysis: { stepWeight: 10, maxWeight: 50 },
        service: timeout === undefined ? {} : { timeout },
      },
    });

  it('bounds every request by 15 s when the service sets no timeout (a hung replica must not hold clients)', () => {
    expect(appRouteSpec(withTimeout(), endpoints).timeoutMs).toBe(15_000);
  });

  it('keeps a timeout the service sets, and none for timeout 0', () => {
    expect(appRouteSpec(withTimeout(2_500), endpoints).timeoutMs).toBe(2_500);
    expect(appRouteSpec(withTimeout(0), endpoints)).not.toHaveProperty('timeoutMs');
  });
});
