import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AbMatchRule, AppRouteSpec, RouteState } from '../traffic-router.js';
import { renderHttpRoute, type HttpRoute, type HttpRouteOptions } from './http-route.js';
import { reconciledRouteState, routeStateOfHttpRoute } from './route-state.js';

const spec: AppRouteSpec = {
  app: 'catalog',
  versions: [
    { name: 'primary', service: { name: 'catalog-primary', namespace: 'shop', port: 80 } },
    { name: 'canary', service: { name: 'catalog-canary', namespace: 'shop', port: 80 } },
    { name: 'baseline', service: { name: 'catalog-baseline', namespace: 'other', port: 8080 } },
  ],
};
const options: HttpRouteOptions = { namespace: 'shop', parentRefs: [{ name: 'public' }] };
const VERSIONS = ['primary', 'canary', 'baseline'] as const;

// Values with regex metacharacters, so escaping is exercised; names are header tokens.
const tokenArb = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
const valueArb = fc
  .stringMatching(/^[A-Za-z0-9 .*+?^$|()[\]{}\\/-]{1,12}$/)
  .filter((v) => v.trim() === v && v !== '');
// A regex that is neither `.*` nor `^literal.*`, which read back as `present` and `prefix`.
const regexArb = fc.constantFrom('[0-9]+', 'a|b', 'v\\d+\\.\\d+', '(beta|alpha)-.*');
const valueMatchArb = (name: fc.Arbitrary<string>) =>
  fc.oneof(
    fc.record({ name, exact: valueArb }),
    fc.record({ name, prefix: valueArb }),
    fc.record({ name, regex: regexArb }),
    fc.record({ name, present: fc.constant(true) }),
  );
const ruleArb: fc.Arbitrary<AbMatchRule> = fc
  .record(
    {
      headers: fc.uniqueArray(valueMatchArb(tokenArb.filter((t) => t !== 'cookie')), {
        minLength: 1,
        maxLength: 3,
        selector: (h) => h.name,
      }),
      cookies: fc.array(valueMatchArb(tokenArb), { minLength: 1, maxLength: 1 }),
    },
    { requiredKeys: [] },
  )
  .map((rule) => rule as AbMatchRule);

const stateArb: fc.Arbitrary<RouteState> = fc.record(
  {
    weights: fc
      .tuple(...VERSIONS.map(() => fc.integer({ min: 0, max: 1000 })))
      .filter((ws) => ws.some((w) => w > 0))
      .map((ws) => Object.fromEntries(VERSIONS.map((v, i) => [v, ws[i]!]))),
    mirror: fc.record({ version: fc.constantFrom(...VERSIONS), percent: fc.integer({ min: 0, max: 100 }) }),
    abTesting: fc.record({
      version: fc.constantFrom(...VERSIONS),
      rules: fc.array(ruleArb, { minLength: 1, maxLength: 4 }),
    }),
  },
  { requiredKeys: ['weights'] },
);

describe('routeStateOfHttpRoute', () => {
  it('reads back the state a route was rendered from (render, then read back)', () => {
    fc.assert(
      fc.property(stateArb, fc.boolean(), (state, rewrite) => {
        const route = renderHttpRoute(
          rewrite ? { ...spec, pathPrefix: '/api', rewritePrefix: '/' } : spec,
          state,
          options,
        );
        // Through JSON, as it comes back from the API server.
        const read = routeStateOfHttpRoute(JSON.parse(JSON.stringify(route)) as HttpRoute, spec);
        expect(read).toEqual(state);
      }),
      { numRuns: 500 },
    );
  });

  it('reads what a gateway would: the default weight 1, a fraction, and no version for a foreign Service', () => {
    const route = renderHttpRoute(spec, { weights: { primary: 100 } }, options);
    const edited: HttpRoute = {
      ...route,
      spec: {
        ...route.spec,
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/' } }],
            filters: [
              {
                type: 'RequestMirror',
                requestMirror: {
                  backendRef: { group: '', kind: 'Service', name: 'catalog-canary', port: 80 },
                  fraction: { numerator: 1, denominator: 4 },
                },
              },
            ],
            backendRefs: [
              { group: '', kind: 'Service', name: 'catalog-primary', port: 80 },
              { group: '', kind: 'Service', name: 'someone-else', port: 80, weight: 5 },
            ],
          },
        ],
      },
    };
    expect(routeStateOfHttpRoute(edited, spec)).toEqual({
      weights: { primary: 1 },
      mirror: { version: 'canary', percent: 25 },
    });
  });
});

describe('reconciledRouteState', () => {
  it('starts a new route with all traffic on the first version', () => {
    expect(reconciledRouteState(undefined, spec)).toEqual({
      weights: { primary: 100, canary: 0, baseline: 0 },
    });
  });

  it('keeps weights, mirror and A/B rules of versions still there, and drops the others', () => {
    const twoVersions = { ...spec, versions: spec.versions.slice(0, 2) };
    const rules = [{ headers: [{ name: 'x', exact: '1' }] }];
    expect(
      reconciledRouteState(
        {
          weights: { primary: 50, baseline: 50 },
          mirror: { version: 'baseline', percent: 10 },
          abTesting: { version: 'canary', rules },
        },
        twoVersions,
      ),
    ).toEqual({ weights: { primary: 50, canary: 0 }, abTesting: { version: 'canary', rules } });
    expect(reconciledRouteState({ weights: { baseline: 100 } }, twoVersions)).toEqual({
      weights: { primary: 100, canary: 0 },
    });
  });
});
