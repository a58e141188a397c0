import { describe, expect, it } from 'vitest';
import { METRIC_PROVIDER_TYPES } from '../config/metric-template.js';
import { createMetricProvider, providerRegistry } from './provider-registry.js';

describe('metric provider registry', () => {
  it('has a factory for exactly the provider types the config schema accepts', () => {
    expect([...providerRegistry.kinds()].sort()).toEqual([...METRIC_PROVIDER_TYPES].sort());
    for (const type of METRIC_PROVIDER_TYPES) expect(providerRegistry.has(type)).toBe(true);
  });

  it('builds the provider of a known type and refuses an unknown one, listing the known', () => {
    expect(createMetricProvider({ type: 'prometheus', address: 'http://127.0.0.1:9' }).kind).toBe(
      'prometheus',
    );
    expect(() => createMetricProvider({ type: 'datadog', address: 'http://127.0.0.1:9' })).toThrow(
      expect.objectContaining({
        code: 'AVIARY_METRIC_PROVIDER_UNKNOWN',
        message:
          'metricTemplates[].provider.type: unknown metric provider kind "datadog"; known kinds: prometheus',
      }),
    );
  });
});
