/**
 * Answers the metric checks that go to a provider: `templateRef` metrics (the template's
 * query, rendered for the app, on the template's provider) and, when `metricsServer` is set,
 * the built-in checks as PromQL over the router's series. Plugs into the check runner as its
 * `ExtraMetricEvaluator`; turns each failure class into the result its policy asks for
 * (metrics/metric-provider.ts) and checks the providers an app uses when its rollout starts.
 */
import type { AppSpec, AviaryConfig, MetricSpec } from '../../config/app-schema.js';
import { AviaryError } from '../../errors.js';
import { thresholdVerdict, type ExtraMetricEvaluator } from './check-runner.js';
import type { MetricResult } from '../step/observations.js';
import { displayUrl } from '../../http/post-json.js';
import {
  findTemplate,
  metricTemplateWarnings,
  templateLabel,
  type MetricTemplate,
} from '../../config/metric-template.js';
import { promDuration, renderQuery, type TemplateContext } from '../../metrics/metric-template-render.js';
import { BUILTIN_METRIC_NAMES, type BuiltinMetricName } from '../../metrics/metric-observer.js';
import { BUILTIN_QUERIES, REQUEST_COUNT_QUERY } from '../../metrics/prometheus-builtin-queries.js';
import {
  MetricQueryError,
  type MetricProvider,
  type ProviderOptions,
  type ProviderSpec,
} from '../../metrics/metric-provider.js';
import { createMetricProvider } from '../../metrics/provider-registry.js';

/** What the evaluator reads from the config; read at every call, so a reload applies at once. */
export type TemplateConfig = Pick<AviaryConfig, 'metricTemplates' | 'metricsServer'>;

/** Something worth an event at the start of a rollout (a provider offline, an ignored field). */
export interface ProviderNotice {
  readonly reason: 'MetricProviderOffline' | 'MetricTemplateWarning';
  readonly message: string;
  readonly severity: 'info' | 'warning';
}

/** Options of a {@link TemplateEvaluator}. */
export interface TemplateEvaluatorOptions {
  readonly config: () => TemplateConfig;
  /** Namespace reported for apps (`{{ namespace }}`). Default `default`. */
  readonly namespace?: string;
  /** Per-request limit of each provider. Default: the provider's own (5 s for Prometheus). */
  readonly timeoutMs?: number;
  /** Builds providers; defaults to the registry. A seam for tests. */
  readonly createProvider?: (spec: ProviderSpec, options: ProviderOptions) => MetricProvider;
}

interface Target {
  readonly provider: MetricProvider;
  /** Names the provider in messages (no credentials). */
  readonly label: string;
}

/** Runs templated and (with `metricsServer`) built-in checks on metric providers. */
export class TemplateEvaluator {
  private readonly providers = new Map<string, MetricProvider>();
  private readonly namespace: string;

  constructor(private readonly options: TemplateEvaluatorOptions) {
    this.namespace = options.namespace ?? 'default';
  }

  /**
   * The check runner's `ExtraMetricEvaluator`: a result for a `templateRef` metric or, with
   * `metricsServer`, a built-in one; undefined for anything else (the runner's own observer).
   */
  readonly evaluate: ExtraMetricEvaluator = async (app, metric, _nowMs, signal) => {
    const config = this.options.config();
    if (metric.templateRef !== undefined) {
      const template = findTemplate(config.metricTemplates, metric.templateRef);
      if (template === undefined) return undefined;
      return this.runTemplate(app, metric, template, signal);
    }
    const builtin = BUILTIN_METRIC_NAMES.find((name) => name === metric.name);
    if (builtin !== undefined && config.metricsServer !== undefined) {
      return this.runBuiltin(app, metric, builtin, config.metricsServer, signal);
    }
    return undefined;
  };

  /**
   * Checks every provider `app`'s metrics use (Flagger checks `IsOnline` when a canary
   * starts) and returns what deserves an event: providers offline, fields ignored.
   */
  async checkProviders(app: AppSpec, signal: AbortSignal): Promise<ProviderNotice[]> {
    const config = this.options.config();
    const used = new Map<string, { target: Target; metrics: string[] }>();
    const templates: MetricTemplate[] = [];
    for (const metric of app.canary.analysis.metrics) {
      let target: Target | undefined;
      if (metric.templateRef !== undefined) {
        const template = findTemplate(config.metricTemplates, metric.templateRef);
        if (template === undefined) continue;
        templates.push(template);
        target = this.target(template.provider);
      } else if (config.metricsServer !== undefined && BUILTIN_METRIC_NAMES.some((n) => n === metric.name)) {
        target = this.target({ type: 'prometheus', address: config.metricsServer });
      }
      if (target === undefined) continue;
      const entry = used.get(target.label) ?? { target, metrics: [] };
      entry.metrics.push(metric.name);
      used.set(target.label, entry);
    }
    const notices: ProviderNotice[] = [];
    for (const { target, metrics } of used.values()) {
      if (!(await target.provider.isOnline(signal))) {
        notices.push({
          reason: 'MetricProviderOffline',
          message: `Metric provider ${target.label} of ${app.name} is offline (metrics ${metrics.join(', ')}); their checks fail until it answers`,
          severity: 'warning',
        });
      }
    }
    const ignored = metricTemplateWarnings(config.metricTemplates).filter((w) =>
      templates.some((t) => w.path.startsWith(`metricTemplates[${config.metricTemplates.indexOf(t)}]`)),
    );
    for (const warning of ignored) {
      notices.push({
        reason: 'MetricTemplateWarning',
        message: `${warning.path}: ${warning.message}`,
        severity: 'info',
      });
    }
    return notices;
  }

  private target(spec: ProviderSpec): Target {
    const key = JSON.stringify([spec.type, spec.address, spec.headers ?? {}]);
    let provider = this.providers.get(key);
    if (!provider) {
      const create = this.options.createProvider ?? createMetricProvider;
      const options = this.options.timeoutMs === undefined ? {} : { timeoutMs: this.options.timeoutMs };
      provider = create(spec, options);
      this.providers.set(key, provider);
    }
    return { provider, label: `${spec.type} ${displayUrl(spec.address)}` };
  }

  private context(app: AppSpec, metric: MetricSpec): TemplateContext {
    // The built-in router knows each app by its name: it is the target and the service alike.
    // A Canary's are Flagger's: `targetRef.name` and the apex Service, in its namespace.
    const cluster = app.workload.kind === 'deployment' ? app.workload : undefined;
    return {
      name: app.name,
      namespace: cluster?.namespace ?? this.namespace,
      target: cluster?.targetName ?? app.name,
      service: cluster?.service.name ?? app.name,
      interval: promDuration(metric.interval),
      variables: metric.templateVariables ?? {},
    };
  }

  private async runTemplate(
    app: AppSpec,
    metric: MetricSpec,
    template: MetricTemplate,
    signal: AbortSignal,
  ): Promise<MetricResult> {
    const { provider, label } = this.target(template.provider);
    let query = template.query;
    try {
      query = renderQuery(
        template.query,
        this.context(app, metric),
        `metric template ${templateLabel(template)}`,
      );
      const value = await provider.runQuery(query, signal);
      const verdict = thresholdVerdict(metric, value);
      return { name: metric.name, value, ...verdict, evidence: { provider: label, query } };
    } catch (err) {
      signal.throwIfAborted();
      return failure(metric, err, { provider: label, query });
    }
  }

  private async runBuiltin(
    app: AppSpec,
    metric: MetricSpec,
    builtin: BuiltinMetricName,
    address: string,
    signal: AbortSignal,
  ): Promise<MetricResult> {
    const { provider, label } = this.target({ type: 'prometheus', address });
    const context = this.context(app, metric);
    const query = renderQuery(BUILTIN_QUERIES[builtin], context);
    const evidence = { provider: label, query };
    try {
      const [value, requests] = await Promise.all([
        provider.runQuery(query, signal).catch(noData),
        provider.runQuery(renderQuery(REQUEST_COUNT_QUERY, context), signal).catch(noData),
      ]);
      const sampleSize = requests instanceof MetricQueryError ? 0 : Math.round(requests);
      if (value instanceof MetricQueryError) {
        return { name: metric.name, value: null, sampleSize, passed: false, detail: value.message, evidence };
      }
      return { name: metric.name, value, sampleSize, ...thresholdVerdict(metric, value), evidence };
    } catch (err) {
      signal.throwIfAborted();
      return failure(metric, err, evidence);
    }
  }
}

/** Keeps a no-data answer as a value (its policy is the caller's); rethrows every other failure. */
function noData(err: unknown): MetricQueryError {
  if (err instanceof MetricQueryError && err.policy === 'no-data') return err;
  throw err;
}

/** The result a failed query stands for under its policy. */
function failure(
  metric: MetricSpec,
  err: unknown,
  evidence: { provider: string; query: string },
): MetricResult {
  if (err instanceof MetricQueryError && err.policy === 'no-data') {
    // Left to the no-data policy: a hold, or a failed check with failOnNoData (check-verdicts.ts).
    return { name: metric.name, value: null, passed: false, detail: err.message, evidence };
  }
  const message = err instanceof AviaryError || err instanceof Error ? err.message : String(err);
  return { name: metric.name, value: null, passed: false, error: message, evidence };
}
