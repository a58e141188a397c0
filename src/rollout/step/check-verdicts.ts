/**
 * Turns observed check results into decisions: is a gate open, did the hooks of a type
 * pass, did the metrics pass, fail, or lack data, is a role ready. Results are matched to
 * the spec by type and name; a configured check without a result counts against the
 * rollout (fail closed), because a scheduler that skipped a check must not let it advance.
 */
import type { AnalysisSpec, MetricSpec, WebhookType } from '../../config/app-schema.js';
import type { MetricResult, Observations, RegressionProof, RoleObservation } from './observations.js';

/** Outcome of the checks of one tick. `hold`: no decision (no data yet), nothing counted. */
export type Verdict =
  | { readonly kind: 'pass' }
  | { readonly kind: 'fail'; readonly message: string }
  | { readonly kind: 'hold'; readonly message: string };

/** State of a confirm-* gate: the hooks of that type (built-in `aviary:gate` ones included). */
export interface GateVerdict {
  readonly open: boolean;
  readonly message: string;
  /** The hook that holds the gate asked for no alert (`muteAlert`). */
  readonly muteAlert: boolean;
}

/** Webhook types that gate a transition. */
export type ConfirmType = Extract<
  WebhookType,
  'confirm-rollout' | 'confirm-traffic-increase' | 'confirm-promotion'
>;

/** Webhooks of `type`, in spec order. */
export function hooksOf(analysis: AnalysisSpec, type: WebhookType): AnalysisSpec['webhooks'] {
  return analysis.webhooks.filter((hook) => hook.type === type);
}

function resultOf(observations: Observations, type: WebhookType, name: string) {
  return observations.checks.webhooks.find((result) => result.type === type && result.name === name);
}

/** A confirm-* gate is open when every hook of its type answered OK (none configured: open). */
export function gateVerdict(
  analysis: AnalysisSpec,
  type: ConfirmType,
  observations: Observations,
): GateVerdict {
  for (const hook of hooksOf(analysis, type)) {
    const result = resultOf(observations, type, hook.name);
    if (result === undefined) {
      return {
        open: false,
        message: `no result for ${type} webhook ${hook.name}`,
        muteAlert: hook.muteAlert,
      };
    }
    if (!result.ok) {
      return {
        open: false,
        message: `${type} webhook ${hook.name}: ${result.message}`,
        muteAlert: hook.muteAlert,
      };
    }
  }
  return { open: true, message: `${type} checks passed`, muteAlert: false };
}

/** Pre-rollout or rollout hooks: every hook must answer OK (Flagger stops at the first failure). */
export function hooksVerdict(
  analysis: AnalysisSpec,
  type: 'pre-rollout' | 'rollout',
  observations: Observations,
): Verdict {
  for (const hook of hooksOf(analysis, type)) {
    const result = resultOf(observations, type, hook.name);
    if (result === undefined) return { kind: 'fail', message: `no result for ${type} webhook ${hook.name}` };
    if (!result.ok) return { kind: 'fail', message: `${type} check ${hook.name} failed: ${result.message}` };
  }
  return { kind: 'pass' };
}

/** Why a rollback was asked for, or undefined: a rollback hook answered 2xx (or its gate is open). */
export function rollbackRequest(analysis: AnalysisSpec, observations: Observations): string | undefined {
  for (const hook of hooksOf(analysis, 'rollback')) {
    if (resultOf(observations, 'rollback', hook.name)?.ok === true) return `rollback webhook ${hook.name}`;
  }
  return undefined;
}

/** A metric check that proved a regression: what it says, and the traffic the proof took. */
export interface RegressionRequest {
  readonly detail: string;
  readonly proof?: RegressionProof;
}

/**
 * The metric result among `results` (a tick's checks, or its looks) that proved a
 * regression and asks for an immediate rollback, if any.
 */
export function regressionRequest(
  analysis: AnalysisSpec,
  results: readonly MetricResult[],
): RegressionRequest | undefined {
  for (const metric of analysis.metrics) {
    const result = results.find((m) => m.name === metric.name);
    if (result?.rollback !== true) continue;
    const detail = `metric ${metric.name}: ${result.detail ?? 'regression detected'}`;
    return result.proof === undefined ? { detail } : { detail, proof: result.proof };
  }
  return undefined;
}

/** Whether a metric result lacks the data to judge: no value, or fewer requests than `minRequests`. */
function lacksData(metric: MetricSpec, value: number | null, sampleSize: number | undefined): boolean {
  return value === null || (sampleSize !== undefined && sampleSize < metric.minRequests);
}

/**
 * Metric checks with Aviary's no-data policy: a metric without enough data holds the
 * step (no failed check) unless it sets `failOnNoData`, which makes it a failed check as
 * in Flagger ("no values found"). A failure anywhere wins over a hold.
 */
export function metricsVerdict(analysis: AnalysisSpec, observations: Observations): Verdict {
  const failures: string[] = [];
  const holds: string[] = [];
  for (const metric of analysis.metrics) {
    const result = observations.checks.metrics.find((r) => r.name === metric.name);
    if (result === undefined) {
      failures.push(`no result for metric ${metric.name}`);
    } else if (result.error !== undefined) {
      failures.push(`metric ${metric.name} query failed: ${result.error}`);
    } else if (lacksData(metric, result.value, result.sampleSize)) {
      const seen = result.sampleSize === undefined ? 'no values found' : `${result.sampleSize} requests`;
      // A hold that says why with enough requests (the judge's "gathering evidence: ~N more
      // canary requests") shows its reason; too few requests are said as such.
      const tooFew = result.sampleSize !== undefined && result.sampleSize < metric.minRequests;
      const why = tooFew ? undefined : result.detail;
      const note = `metric ${metric.name}: ${why ?? `${seen}, ${metric.minRequests} needed`}`;
      if (metric.failOnNoData) failures.push(note);
      else holds.push(note);
    } else if (!result.passed) {
      failures.push(
        `metric ${metric.name} ${result.detail ?? `value ${String(result.value)}`} outside threshold`,
      );
    }
  }
  if (failures.length > 0) return { kind: 'fail', message: failures.join('; ') };
  if (holds.length > 0) return { kind: 'hold', message: holds.join('; ') };
  return { kind: 'pass' };
}

/** Rollout hooks, then metrics, as Flagger's runAnalysis. */
export function analysisVerdict(analysis: AnalysisSpec, observations: Observations): Verdict {
  const hooks = hooksVerdict(analysis, 'rollout', observations);
  return hooks.kind === 'pass' ? metricsVerdict(analysis, observations) : hooks;
}

/** Whether a role runs `revision` with enough ready processes (Flagger's readyThreshold, in %). */
export function isReady(role: RoleObservation, revision: string | null, thresholdPercent: number): boolean {
  if (revision === null || role.revision !== revision || role.replicas <= 0) return false;
  return role.readyReplicas >= Math.floor((role.replicas * thresholdPercent) / 100);
}

/** Short description of a role's readiness for events, e.g. `canary 0/2 ready (revision 3f2a…)`. */
export function describeRole(name: string, role: RoleObservation, revision: string | null): string {
  if (role.revision === null) return `${name} not running`;
  if (role.revision !== revision) return `${name} runs revision ${role.revision}, not ${String(revision)}`;
  return `${name} ${role.readyReplicas}/${role.replicas} ready`;
}
