import { describe, expect, it } from 'vitest';
import { METRIC_PROVIDER_TYPES } from '../config/metric-template.js';
import { createMetricProvider, isProviderKind, providerKinds } from './provider-registry.js';

describe('metric provider registry', () => {
  it('has a factory for exactly the provider types the config schema accepts', () => {
    expect([...providerKinds()].sort()).toEqual([...METRIC_PROVIDER_TYPES].sort());
    for (const type of METRIC_PROVIDER_TYPES) expect(isProviderKind(type)).toBe(true);
  });

  it('builds the provider of a known type and refuses an unknown one, listing the known', () => {
    expect(createMetricProvider({ type: 'prometheus', address: 'http://127.0.0.1:9' }).kind).toBe(
      'prometheus',
    );
    expect(() => createMetricProvider({ type: 'datadog', address: 'http://127.0.0.1:9' })).toThrow(
      'unknown metric provider type "datadog"; known types: prometheus',
    );
  });
});
