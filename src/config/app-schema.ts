/**
 * The one schema of `aviary.yaml`: where the router and the control API listen, where state
 * is kept, and the apps (exposure, workload, canary block). Validated where the file
 * enters; every TypeScript type of an app is derived from here.
 *
 * ```yaml
 * apiVersion: aviary.dev/v1alpha1
 * kind: Aviary
 * router: {host: 127.0.0.1, port: 8080}
 * apps:
 *   - name: catalogdetail
 *     path: /catalogDetail
 *     process: {command: node, args: [server.js], env: {VERSION: "2"}}
 *     canary: {analysis: {interval: 1m, threshold: 5, maxWeight: 50, stepWeight: 10}}
 * ```
 */
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { metricTemplateSchema, templateIssues } from './metric-template.js';
import { alertProviderSchema } from './alert-providers.js';
import { appSchema } from './app-entry.js';
import { listenAddress, routerSchema } from './router-kinds.js';
import { pipelinesSchema } from './pipelines-schema.js';
import { ConfigError } from './config-error.js';
import { formatDuration } from './duration.js';
import { durationMs } from './proxy-schema.js';
import { parseOrThrow, parseWithSchema, type Validated } from './schema-issues.js';

export { appSchema } from './app-entry.js';
export { PORT_ENV, type ProcessSpec, type ProbeSpec } from './app-process.js';
export type { EndpointsSpec } from './app-endpoints.js';
export { WORKLOAD_KINDS, workloadKindOf, type WorkloadKind, type WorkloadSpec } from './app-workload.js';
export type { CanarySpec, CanarySpecInput, ServiceSpec } from './app-canary.js';
export type {
  AnalysisSpec,
  MetricSpec,
  WebhookSpec,
  WebhookType,
  AlertSpec,
  AlertSeverity,
} from './app-analysis.js';

/** The `apiVersion` of an Aviary document. */
export const AVIARY_API_VERSION = 'aviary.dev/v1alpha1';

/** Flagger's lower bound on `analysis.interval`; `minAnalysisInterval` may lower it. */
export const FLAGGER_MIN_ANALYSIS_INTERVAL_MS = 10_000;

/** The control API's listening address. */
const apiAddress = z.strictObject(listenAddress(8081)).prefault({});

/** The fields of a whole `aviary.yaml`, each checked on its own. */
const configFields = z.strictObject({
  apiVersion: z.literal(AVIARY_API_VERSION),
  kind: z.literal('Aviary'),
  router: routerSchema,
  api: apiAddress,
  stateDir: z.string().min(1).default('.aviary'),
  /**
   * Lower bound on every `analysis.interval` (default 10s, Flagger's). Tests and demos set
   * it to 1s or less to run a whole rollout in seconds.
   */
  minAnalysisInterval: durationMs
    .refine((ms) => ms > 0, { message: 'expected a duration > 0' })
    .default(FLAGGER_MIN_ANALYSIS_INTERVAL_MS),
  /**
   * Flagger `AlertProvider`s, referenced by `analysis.alerts[].providerRef.name`.
   * Security: `address` is the provider's secret webhook URL; it is never logged in full.
   */
  alertProviders: z.array(alertProviderSchema).default([]),
  /**
   * Flagger's `MetricTemplate`s, referenced by `analysis.metrics[].templateRef`; see
   * config/metric-template.ts. Security: `provider.headers` may carry credentials; they are
   * sent to `provider.address` only and never shown.
   */
  metricTemplates: z.array(metricTemplateSchema).default([]),
  /**
   * A Prometheus that scrapes the router (Flagger's `-metrics-server` flag): when set, the
   * built-in checks run as PromQL there instead of reading the router's counters in process.
   */
  metricsServer: z.url({ protocol: /^https?$/, message: 'expected an http(s) URL' }).optional(),
  apps: z.array(appSchema).min(1),
  /** The git pipelines (webhooks, builds, releases from a deploy repository); none when absent. */
  pipelines: pipelinesSchema.optional(),
});

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** An app's name, hosts and path, when they are well formed (the app may be invalid elsewhere). */
function exposureOf(app: unknown): { name: string; hosts?: string[]; path?: string } | undefined {
  if (!isObject(app) || typeof app.name !== 'string') return undefined;
  const { hosts, path } = app;
  if (hosts !== undefined && !(Array.isArray(hosts) && hosts.every((h) => typeof h === 'string')))
    return undefined;
  if (path !== undefined && typeof path !== 'string') return undefined;
  return {
    name: app.name,
    ...(hosts === undefined ? {} : { hosts }),
    ...(path === undefined ? {} : { path }),
  };
}

/**
 * Checks across fields of a whole `aviary.yaml`: the API port against the router's, alert
 * providers and metric templates referenced by apps, unique app names and exposures, the
 * lower bound on analysis intervals, and the judge only where its tests are valid. `config` may be partial when
 * other fields are invalid, hence the guards.
 */
function crossFieldChecks(config: z.output<typeof configFields>, ctx: z.RefinementCtx): void {
  // An empty file reads as null: the object check has reported it, and there is nothing to cross-check.
  if (!isObject(config)) return;
  const { router, api } = config;
  if (
    isObject(router) &&
    isObject(api) &&
    router.kind === 'embedded' &&
    router.port !== 0 &&
    router.host === api.host &&
    router.port === api.port
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['api', 'port'],
      message: `${api.host}:${api.port} is used by the router`,
    });
  }
  // Apps that failed their own schema keep their input shape (no `workload`): skipped below.
  const apps = (Array.isArray(config.apps) ? config.apps : []).map((app) =>
    isObject(app) && 'workload' in app ? app : undefined,
  );
  const providerList = Array.isArray(config.alertProviders) ? config.alertProviders : [];
  const providers = new Set(providerList.map((p) => (isObject(p) ? p.name : undefined)));
  apps.forEach((app, i) => {
    app?.canary.analysis.alerts.forEach((alert, j) => {
      if (!providers.has(alert.providerRef.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['apps', i, 'canary', 'analysis', 'alerts', j, 'providerRef', 'name'],
          message: `unknown alert provider "${alert.providerRef.name}"; define it under alertProviders${providers.size > 0 ? ` (known: ${[...providers].join(', ')})` : ''}`,
        });
      }
    });
  });
  const templates = Array.isArray(config.metricTemplates) ? config.metricTemplates : [];
  if (templates.every((t) => isObject(t) && typeof t.name === 'string' && typeof t.query === 'string')) {
    const templated = apps.map((app) => app ?? { canary: { analysis: { metrics: [] } } });
    for (const issue of templateIssues(templates, templated)) {
      ctx.addIssue({ code: 'custom', path: [...issue.path], message: issue.message });
    }
  }
  const names = new Map<string, number>();
  const exposures = new Map<string, string>();
  (Array.isArray(config.apps) ? config.apps : []).forEach((entry, i) => {
    // Names and exposures are read from apps that failed elsewhere too, when well formed.
    const app = exposureOf(entry);
    if (app === undefined) return;
    const first = names.get(app.name);
    if (first !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['apps', i, 'name'],
        message: `duplicate app name "${app.name}" (also apps[${first}])`,
      });
    } else names.set(app.name, i);
    for (const host of app.hosts ?? ['*']) {
      const key = `${host.toLowerCase()} ${app.path ?? '/'}`;
      const other = exposures.get(key);
      if (other !== undefined && other !== app.name) {
        ctx.addIssue({
          code: 'custom',
          path: ['apps', i, app.path === undefined ? 'hosts' : 'path'],
          message: `host ${host} and path ${app.path ?? '/'} are already served by app "${other}"`,
        });
      }
      exposures.set(key, app.name);
    }
  });
  apps.forEach((app, i) => {
    if (app === undefined) return;
    const interval = app.canary.analysis.interval;
    if (typeof config.minAnalysisInterval === 'number' && interval < config.minAnalysisInterval) {
      ctx.addIssue({
        code: 'custom',
        path: ['apps', i, 'canary', 'analysis', 'interval'],
        message: `expected at least ${formatDuration(config.minAnalysisInterval)}, got ${formatDuration(interval)}; set minAnalysisInterval at the top level to allow shorter intervals in tests and demos`,
      });
    }
  });
}

/** Schema of a whole `aviary.yaml`. Router on 127.0.0.1:8080, control API on 127.0.0.1:8081, state in `.aviary`. */
export const aviaryConfigSchema = configFields
  // `when`: these checks run even when other fields failed, so that `aviary validate` reports
  // every independent error at once; each check skips the parts that failed their own schema.
  .superRefine(crossFieldChecks, { when: () => true });

/** A validated `aviary.yaml`, defaults applied, durations in milliseconds. */
export type AviaryConfig = z.output<typeof aviaryConfigSchema>;
/** An `aviary.yaml` as a user writes it. */
export type AviaryConfigInput = z.input<typeof aviaryConfigSchema>;
/** One validated app. */
export type AppSpec = z.output<typeof appSchema>;
/** One app as a user writes it. */
export type AppSpecInput = z.input<typeof appSchema>;

/** Validates a parsed `aviary.yaml` document; every problem comes back with its path. */
export function parseAviaryConfig(document: unknown): Validated<AviaryConfig> {
  return parseWithSchema(aviaryConfigSchema, document);
}

/**
 * Parses and validates the text of an `aviary.yaml`. Throws a {@link ConfigError}
 * (`AVIARY_CONFIG_INVALID`) naming `source` on a YAML syntax error or an invalid document.
 */
export function loadAviaryConfig(text: string, source: string): AviaryConfig {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (err) {
    throw new ConfigError(source, [{ path: '', message: `not valid YAML: ${(err as Error).message}` }]);
  }
  return parseOrThrow(aviaryConfigSchema, document, source);
}
