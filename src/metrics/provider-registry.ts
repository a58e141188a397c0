/**
 * The explicit registry that maps a template's `provider.type` (config/metric-template.ts
 * lists them) to the factory of its {@link MetricProvider}. An unknown type is an error
 * listing the known ones — never a silent fallback to another provider.
 */
import { AviaryError } from '../errors.js';
import type { MetricProvider, ProviderOptions, ProviderSpec } from './metric-provider.js';
import { PrometheusProvider } from './prometheus-provider.js';

type ProviderFactory = (spec: ProviderSpec, options: ProviderOptions) => MetricProvider;

const factories = new Map<string, ProviderFactory>([
  ['prometheus', (spec, options) => new PrometheusProvider({ ...spec, ...options })],
]);

/** Names of every registered provider kind. */
export function providerKinds(): string[] {
  return [...factories.keys()];
}

/** True when `type` names a registered provider kind. */
export function isProviderKind(type: string): boolean {
  return factories.has(type);
}

/**
 * Creates the provider for `spec.type`.
 * @throws AviaryError `AVIARY_METRIC_PROVIDER_UNKNOWN`, listing the known kinds.
 */
export function createMetricProvider(spec: ProviderSpec, options: ProviderOptions = {}): MetricProvider {
  const factory = factories.get(spec.type);
  if (!factory) {
    throw new AviaryError(
      'AVIARY_METRIC_PROVIDER_UNKNOWN',
      `unknown metric provider type "${spec.type}"; known types: ${providerKinds().join(', ')}`,
    );
  }
  return factory(spec, options);
}
