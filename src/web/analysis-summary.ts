/**
 * The part of an app's canary spec the dashboard shows next to the measured values: the
 * schedule, the threshold of failed checks and each metric's threshold range. Served as
 * `GET /api/v1/rollouts/{app}/analysis`, so every check's verdict can be read against the
 * bound it was judged by.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExtraRoute } from '../api/control-server.js';
import { sendJson } from '../api/http-json.js';
import type { AppSpec, WebhookType } from '../config/app-schema.js';
import type { RolloutController } from '../rollout/controller/controller.js';

/** One metric check as configured. */
export interface MetricSummary {
  readonly name: string;
  /** Window the value is computed over (ms). */
  readonly intervalMs: number;
  readonly thresholdRange: { readonly min?: number | undefined; readonly max?: number | undefined } | null;
  readonly minRequests: number;
  readonly failOnNoData: boolean;
  /** Name of the metric template, for templated metrics. */
  readonly template: string | null;
}

/** The analysis of one app, as the dashboard reads it. */
export interface AnalysisSummary {
  readonly app: string;
  readonly skipAnalysis: boolean;
  readonly suspend: boolean;
  readonly progressDeadlineSeconds: number;
  readonly intervalMs: number;
  /** Failed checks that roll the canary back. */
  readonly threshold: number;
  readonly maxWeight: number;
  readonly stepWeight: number | null;
  readonly stepWeights: readonly number[];
  readonly iterations: number | null;
  readonly mirror: boolean;
  readonly abTesting: boolean;
  readonly metrics: readonly MetricSummary[];
  /** Webhook names and types only. */
  readonly webhooks: readonly { readonly name: string; readonly type: WebhookType }[];
}

/**
 * Summarises an app's analysis. Security: webhook URLs and metadata are left out (a URL or
 * a load-test command may carry a credential), as are the process's command and environment.
 */
export function analysisSummary(spec: AppSpec): AnalysisSummary {
  const { analysis } = spec.canary;
  return {
    app: spec.name,
    skipAnalysis: spec.canary.skipAnalysis,
    suspend: spec.canary.suspend,
    progressDeadlineSeconds: spec.canary.progressDeadlineSeconds,
    intervalMs: analysis.interval,
    threshold: analysis.threshold,
    maxWeight: analysis.maxWeight,
    stepWeight: analysis.stepWeight ?? null,
    stepWeights: analysis.stepWeights,
    iterations: analysis.iterations ?? null,
    mirror: analysis.mirror,
    abTesting: analysis.match.length > 0,
    metrics: analysis.metrics.map((metric) => ({
      name: metric.name,
      intervalMs: metric.interval,
      thresholdRange: metric.thresholdRange ?? null,
      minRequests: metric.minRequests,
      failOnNoData: metric.failOnNoData,
      template: metric.templateRef?.name ?? null,
    })),
    webhooks: analysis.webhooks.map((hook) => ({ name: hook.name, type: hook.type })),
  };
}

/** `GET /api/v1/rollouts/{app}/analysis`; an unknown app is AVIARY_NOT_FOUND (404). */
export function analysisRoute(controller: Pick<RolloutController, 'spec'>): ExtraRoute {
  return (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const match = /^\/api\/v1\/rollouts\/([^/]+)\/analysis$/.exec(url.pathname);
    if (req.method !== 'GET' || !match) return false;
    sendJson(res, 200, analysisSummary(controller.spec(decodeURIComponent(match[1] ?? ''))));
    return true;
  };
}
