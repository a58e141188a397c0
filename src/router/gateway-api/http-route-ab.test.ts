import { describe, expect, it } from 'vitest';
import { renderHttpRoute } from './http-route.js';
import { options, ref, spec } from './http-route-test-support.js';

describe('renderHttpRoute: A/B rules', () => {
  it('puts an A/B rule per match rule first, each to the A/B version only, then the default rule', () => {
    const route = renderHttpRoute(
      { ...spec, pathPrefix: '/api' },
      {
        weights: { primary: 100 },
        abTesting: {
          version: 'canary',
          rules: [
            { headers: [{ name: 'x-canary', exact: 'insider' }] },
            {
              headers: [
                { name: 'x-region', prefix: 'eu.' },
                { name: 'x-beta', present: true },
                { name: 'user-agent', regex: '.*Firefox.*' },
              ],
            },
            { cookies: [{ name: 'canary', exact: 'always' }] },
          ],
        },
      },
      options,
    );
    const path = { type: 'PathPrefix', value: '/api' };
    expect(route.spec.rules).toEqual([
      {
        matches: [{ path, headers: [{ name: 'x-canary', type: 'Exact', value: 'insider' }] }],
        backendRefs: [ref('catalog-canary', 100)],
      },
      {
        matches: [
          {
            path,
            headers: [
              { name: 'x-region', type: 'RegularExpression', value: '^eu\\..*' },
              { name: 'x-beta', type: 'RegularExpression', value: '.*' },
              { name: 'user-agent', type: 'RegularExpression', value: '.*Firefox.*' },
            ],
          },
        ],
        backendRefs: [ref('catalog-canary', 100)],
      },
      {
        matches: [
          {
            path,
            headers: [
              { name: 'Cookie', type: 'RegularExpression', value: '^(.*;\\s*)?canary=always(;.*)?$' },
            ],
          },
        ],
        backendRefs: [ref('catalog-canary', 100)],
      },
      { matches: [{ path }], backendRefs: [ref('catalog-primary', 100), ref('catalog-canary', 0)] },
    ]);
  });

  it('writes cookie regexes that find the pair among the others, and nothing else', () => {
    const cookieRegex = (
      cookie: NonNullable<Parameters<typeof renderHttpRoute>[1]['abTesting']>['rules'][number],
    ) =>
      new RegExp(
        renderHttpRoute(
          spec,
          { weights: { primary: 100 }, abTesting: { version: 'canary', rules: [cookie] } },
          options,
        ).spec.rules[0]!.matches[0]!.headers![0]!.value,
      );
    const exact = cookieRegex({ cookies: [{ name: 'tier', exact: 'gold.1' }] });
    expect(['tier=gold.1', 'a=1; tier=gold.1', 'tier=gold.1; b=2'].every((h) => exact.test(h))).toBe(true);
    expect(['tier=goldx1', 'xtier=gold.1', 'tier=gold.12', 'a=tier=gold.1'].some((h) => exact.test(h))).toBe(
      false,
    );
    const prefix = cookieRegex({ cookies: [{ name: 'tier', prefix: 'go' }] });
    expect(prefix.test('a=1; tier=gold; b=2')).toBe(true);
    expect(prefix.test('tier=silver; b=go')).toBe(false);
    const present = cookieRegex({ cookies: [{ name: 'tier' }] });
    expect(present.test('x=1; tier=')).toBe(true);
    expect(present.test('x=1; tiers=1')).toBe(false);
  });

  it('refuses A/B rules Gateway API cannot say without widening them', () => {
    const ab = (rule: object) => () =>
      renderHttpRoute(
        spec,
        { weights: { primary: 100 }, abTesting: { version: 'canary', rules: [rule] } },
        options,
      );
    const refused = (text: string) =>
      expect.objectContaining({
        code: 'AVIARY_ROUTER_CONFIG',
        message: expect.stringContaining(text) as string,
      });
    expect(ab({ headers: [{ name: 'x-a', present: false }] })).toThrow(
      refused('abTesting.rules[0].headers[0]'),
    );
    expect(
      ab({
        cookies: [
          { name: 'a', exact: '1' },
          { name: 'b', exact: '2' },
        ],
      }),
    ).toThrow(refused('2 cookies'));
    expect(ab({ headers: [{ name: 'cookie', exact: 'a=1' }], cookies: [{ name: 'b', exact: '2' }] })).toThrow(
      refused('matched twice'),
    );
    expect(
      ab({
        headers: [
          { name: 'X-A', exact: '1' },
          { name: 'x-a', exact: '2' },
        ],
      }),
    ).toThrow(refused('header x-a is matched twice'));
    const many = { version: 'canary', rules: Array.from({ length: 16 }, () => ({})) };
    expect(() => renderHttpRoute(spec, { weights: { primary: 100 }, abTesting: many }, options)).toThrow(
      refused('at most 15'),
    );
  });
});
