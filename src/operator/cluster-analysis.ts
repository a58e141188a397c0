/**
 * The operator's MetricTemplates and AlertProviders, read from the cluster: a Canary metric's
 * `templateRef` runs the template's query through the same `TemplateEvaluator` as `aviary up`,
 * and `analysis.alerts[].providerRef` sends the rollout's alerts through the same notifiers.
 * A reference without a namespace means the Canary's own, as in Flagger. An object that is
 * missing or fails validation fails only what references it (that metric's check, that alert),
 * never another Canary, and is reported once per Canary and message through `warn`.
 */
import { AlertDispatcher, type AlertDelivery, type AlertSubscription } from '../notify/alert-dispatcher.js';
import type { AlertEvent, AlertProviderConfig, Notifier, NotifierOptions } from '../notify/alert-types.js';
import { createNotifier } from '../notify/notifier-registry.js';
import type { AppSpec, MetricSpec } from '../config/app-schema.js';
import type { MetricTemplate } from '../config/metric-template.js';
import type { KubeApi } from '../kubernetes/kube-api.js';
import { ObjectCacheOf } from '../kubernetes/object-cache.js';
import type { ExtraMetricEvaluator } from '../rollout/controller/check-runner.js';
import { TemplateEvaluator } from '../rollout/controller/metric-template-evaluator.js';
import type { MetricResult } from '../rollout/step/observations.js';
import {
  alertProviderOf,
  ANALYSIS_API_VERSION,
  metricTemplateOf,
  objectLabel,
  type AnalysisObject,
  type ReadObject,
} from './cluster-objects.js';

/** Where objects are read from: an `ObjectCacheOf`, or a fake in tests. */
export interface AnalysisObjectSource {
  get(name: string, namespace?: string): AnalysisObject | undefined;
  /** Every object, in every namespace when `namespace` is undefined. */
  list(namespace?: string): AnalysisObject[];
}

/** Reasons of the Warning Events {@link ClusterAnalysisOptions.warn} is told. */
export type AnalysisWarningReason = 'MetricTemplateWarning' | 'AlertProviderWarning';

/** Options of a {@link ClusterAnalysis}. */
export interface ClusterAnalysisOptions {
  readonly templates: AnalysisObjectSource;
  readonly providers: AnalysisObjectSource;
  /** The Canaries' namespace: what a `templateRef` or `providerRef` without one means. */
  readonly namespace: string;
  /** Told once per Canary and message what a referenced object does wrong (a Warning Event). */
  readonly warn?: (app: string, reason: AnalysisWarningReason, message: string) => void;
  /** Per-request limit of each metric provider; default the provider's own. */
  readonly timeoutMs?: number;
  /** How notifiers send (timeouts, retries); default the notifiers' own. */
  readonly notifierOptions?: NotifierOptions;
}

/** Objects already read, by `namespace/name`, kept while their resourceVersion holds. */
class ReadMemo<T> {
  readonly #entries = new Map<string, { version: string | undefined; read: T }>();
  constructor(private readonly readOf: (object: AnalysisObject) => T) {}

  of(object: AnalysisObject): T {
    const key = `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
    const version = object.metadata?.resourceVersion;
    const known = this.#entries.get(key);
    if (known !== undefined && known.version === version && version !== undefined) return known.read;
    const read = this.readOf(object);
    this.#entries.set(key, { version, read });
    return read;
  }
}

type ReadProvider = ReadObject<{ readonly config: AlertProviderConfig; readonly notifier: Notifier }>;

/** A dispatcher that reports deliveries that failed, which the executor does not look at. */
class ReportingDispatcher extends AlertDispatcher {
  constructor(
    subscriptions: readonly AlertSubscription[],
    private readonly report: (delivery: AlertDelivery) => void,
  ) {
    super(subscriptions);
  }

  override async dispatch(alert: AlertEvent, signal?: AbortSignal): Promise<AlertDelivery[]> {
    const deliveries = await super.dispatch(alert, signal);
    for (const delivery of deliveries) if (delivery.outcome === 'failed') this.report(delivery);
    return deliveries;
  }
}

/** Metric templates and alert providers of the cluster, as the controller's evaluator and alerts. */
export class ClusterAnalysis {
  readonly #templates = new ReadMemo(metricTemplateOf);
  readonly #providers: ReadMemo<ReadProvider>;
  readonly #evaluator: TemplateEvaluator;
  readonly #warned = new Set<string>();

  constructor(private readonly options: ClusterAnalysisOptions) {
    this.#evaluator = new TemplateEvaluator({
      // Read at each call, before the evaluator awaits anything: the same cache state as the
      // lookup in `evaluate` just before it.
      config: () => ({ metricTemplates: this.#validTemplates(), metricsServer: undefined }),
      namespace: options.namespace,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
    this.#providers = new ReadMemo((object) => {
      const read = alertProviderOf(object);
      if (!read.ok) return read;
      try {
        const notifier = createNotifier(read.value, options.notifierOptions);
        return { ok: true, value: { config: read.value, notifier }, notes: read.notes };
      } catch (error) {
        const label = objectLabel(
          'AlertProvider',
          object.metadata?.namespace ?? '',
          object.metadata?.name ?? '',
        );
        return { ok: false, error: `${label}: spec: ${(error as Error).message}` };
      }
    });
  }

  /**
   * The check runner's evaluator for `templateRef` metrics (undefined for any other metric):
   * the template's query on its provider, or a failed check naming the object and the field
   * when the template is missing or invalid.
   */
  readonly evaluate: ExtraMetricEvaluator = async (app, metric, nowMs, signal, purpose) => {
    const ref = metric.templateRef;
    if (ref === undefined) return undefined;
    const namespace = ref.namespace ?? this.options.namespace;
    const label = objectLabel('MetricTemplate', namespace, ref.name);
    const object = this.options.templates.get(ref.name, namespace);
    if (object === undefined) {
      return this.#refused(
        app,
        metric,
        `${label} not found; create it, or correct the templateRef of metric "${metric.name}"`,
      );
    }
    const read = this.#templates.of(object);
    if (!read.ok) return this.#refused(app, metric, read.error);
    for (const note of read.notes) this.#warn(app.name, 'MetricTemplateWarning', note);
    const result = await this.#evaluator.evaluate(
      app,
      { ...metric, templateRef: { name: ref.name, namespace } },
      nowMs,
      signal,
      purpose,
    );
    if (result === undefined) return this.#refused(app, metric, `${label} not found`);
    // A query refused for want of credentials is explained by the ignored secretRef.
    return result.error !== undefined && read.notes.length > 0
      ? { ...result, error: `${result.error} (${read.notes.join('; ')})` }
      : result;
  };

  /**
   * The executor's alerts of `app`: one subscription per `analysis.alerts[]` entry whose
   * AlertProvider exists and is valid; the others are reported through `warn` and skipped.
   */
  readonly alerts = (app: AppSpec): AlertDispatcher | undefined => {
    const entries = app.canary.analysis.alerts;
    if (entries.length === 0) return undefined;
    const subscriptions: AlertSubscription[] = [];
    for (const entry of entries) {
      const namespace = entry.providerRef.namespace ?? this.options.namespace;
      const label = objectLabel('AlertProvider', namespace, entry.providerRef.name);
      const object = this.options.providers.get(entry.providerRef.name, namespace);
      const read: ReadProvider =
        object === undefined
          ? {
              ok: false,
              error: `${label} not found; create it, or correct the providerRef of alert "${entry.name}"`,
            }
          : this.#providers.of(object);
      if (!read.ok) {
        this.#warn(app.name, 'AlertProviderWarning', `${read.error} (alert "${entry.name}" is not sent)`);
        continue;
      }
      for (const note of read.notes) this.#warn(app.name, 'AlertProviderWarning', note);
      subscriptions.push({ name: entry.name, severity: entry.severity, notifier: read.value.notifier });
    }
    return new ReportingDispatcher(subscriptions, (delivery) => {
      const entry = entries.find((e) => e.name === delivery.alert);
      const namespace = entry?.providerRef.namespace ?? this.options.namespace;
      const label = objectLabel('AlertProvider', namespace, entry?.providerRef.name ?? '');
      // Not deduplicated: each failed alert is worth its own Event.
      this.options.warn?.(
        app.name,
        'AlertProviderWarning',
        `${label}: alert "${delivery.alert}" not delivered: ${delivery.message}`,
      );
    });
  };

  #validTemplates(): MetricTemplate[] {
    return this.options.templates.list().flatMap((object) => {
      const read = this.#templates.of(object);
      return read.ok ? [read.value] : [];
    });
  }

  #refused(app: AppSpec, metric: MetricSpec, message: string): MetricResult {
    this.#warn(app.name, 'MetricTemplateWarning', message);
    return { name: metric.name, value: null, passed: false, error: message };
  }

  #warn(app: string, reason: AnalysisWarningReason, message: string): void {
    const key = `${app}\n${message}`;
    if (this.#warned.has(key)) return;
    // A bound on what is remembered; at worst a warning is told again.
    if (this.#warned.size >= 1_000) this.#warned.clear();
    this.#warned.add(key);
    this.options.warn?.(app, reason, message);
  }
}

/** A running {@link ClusterAnalysis} over list-and-watch caches. */
export interface RunningClusterAnalysis {
  /** Resolves once both caches hold the cluster's objects. */
  readonly synced: Promise<void>;
  /** The check runner's `extraMetrics` for `templateRef` metrics. */
  readonly evaluate: ExtraMetricEvaluator;
  /** The executor's `alerts`. */
  readonly alerts: (app: AppSpec) => AlertDispatcher | undefined;
  /** Stops watching; idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts caches of MetricTemplates and AlertProviders and answers the operator's templated
 * metrics and alerts from them.
 *
 * The caches watch every namespace, not only the operator's: Flagger lets a Canary name a
 * template or provider in another namespace (`templateRef.namespace`, a shared template in
 * the mesh's namespace is its documented pattern), and which namespaces are referenced
 * changes with every Canary edit; caches started per referenced namespace would race each
 * new reference's first check against their first list. These objects are few and small,
 * and the operator's ClusterRole already grants get/list/watch on them cluster-wide
 * (deploy/kubernetes/operator/10-rbac.yaml).
 */
export function startClusterAnalysis(
  api: KubeApi,
  options: Omit<ClusterAnalysisOptions, 'templates' | 'providers'>,
): RunningClusterAnalysis {
  const templates = new ObjectCacheOf<AnalysisObject>(api, {
    apiVersion: ANALYSIS_API_VERSION,
    kind: 'MetricTemplate',
  });
  const providers = new ObjectCacheOf<AnalysisObject>(api, {
    apiVersion: ANALYSIS_API_VERSION,
    kind: 'AlertProvider',
  });
  const analysis = new ClusterAnalysis({ ...options, templates, providers });
  return {
    synced: Promise.all([templates.synced, providers.synced]).then(() => undefined),
    evaluate: analysis.evaluate,
    alerts: analysis.alerts,
    async stop() {
      await Promise.all([templates.stop(), providers.stop()]);
    },
  };
}
