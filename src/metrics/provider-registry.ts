/**
 * The metric provider family: one factory per `provider.type` a metric template may name
 * (src/config/metric-template.ts lists them; this table is typed by that list, so a type
 * named there without a factory fails to compile). An unknown type is an error listing the
 * known ones — never a silent fallback to another provider.
 */
import type { MetricProviderType } from '../config/metric-template.js';
import { Registry, type EngineFactory } from '../registry.js';
import type { MetricProvider, ProviderOptions, ProviderSpec } from './metric-provider.js';
import { PrometheusProvider } from './prometheus-provider.js';

type ProviderFactory = EngineFactory<ProviderSpec, ProviderOptions, MetricProvider>;

const FACTORIES: Record<MetricProviderType, ProviderFactory> = {
  prometheus: (spec, options) => new PrometheusProvider({ ...spec, ...options }),
};

/** The metric provider family. */
export const providerRegistry = new Registry(
  'metric provider',
  'metricTemplates[].provider.type',
  'AVIARY_METRIC_PROVIDER_UNKNOWN',
  FACTORIES,
);

/**
 * Creates the provider for `spec.type`.
 * @throws AviaryError `AVIARY_METRIC_PROVIDER_UNKNOWN`, listing the known kinds.
 */
export function createMetricProvider(spec: ProviderSpec, options: ProviderOptions = {}): MetricProvider {
  return providerRegistry.create(spec.type, spec, options);
}
