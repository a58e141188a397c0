import { describe, expect, it } from 'vitest';
import { reconciledState, serviceConfigFor } from './service-config.js';
import { addressesOf, type AppRouteSpec } from './traffic-router.js';

const service = { name: 'catalog-canary', namespace: 'shop', port: 8080 };

describe('RoutedVersion backends', () => {
  it('gives the addresses of an endpoints backend', () => {
    expect(addressesOf({ name: 'primary', endpoints: ['127.0.0.1:8081'] }, 'catalog')).toEqual([
      '127.0.0.1:8081',
    ]);
  });

  it('refuses a Service backend where replicas are dialled, naming the app, version and Service', () => {
    const spec: AppRouteSpec = {
      app: 'catalog',
      versions: [
        { name: 'primary', endpoints: ['127.0.0.1:8081'] },
        { name: 'canary', service },
      ],
    };
    const refusal = expect.objectContaining({
      code: 'AVIARY_ROUTER_CONFIG',
      message: expect.stringContaining('app catalog, version canary') as string,
    });
    expect(() => addressesOf(spec.versions[1]!, 'catalog')).toThrow(refusal);
    expect(() => serviceConfigFor(spec, { weights: { primary: 90, canary: 10 } })).toThrow(
      expect.objectContaining({
        message: expect.stringContaining('Service shop/catalog-canary:8080') as string,
      }),
    );
    expect(() => reconciledState(undefined, spec)).toThrow(refusal);
  });
});
