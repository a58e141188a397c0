/**
 * The controller's own Prometheus metrics: per app the canary weight, the phase, failed
 * checks, the last value of every metric check, and tick durations (Flagger exports the
 * same family as `flagger_canary_*`).
 */
import { escapeLabel } from '../../proxy/stats/proxy-metrics-text.js';
import type { CheckResults } from '../step/observations.js';
import { ROLLOUT_PHASES, type RolloutStatus } from '../step/rollout-status.js';

interface AppGauges {
  weight: number;
  phase: string;
  failedChecks: number;
  metrics: Map<string, number>;
  ticks: number;
  tickSeconds: number;
  analysisStartedAt: number | undefined;
  lastDurationSeconds: number | undefined;
}

/** Gauges and counters of the rollout controller. */
export class ControllerMetrics {
  private readonly apps = new Map<string, AppGauges>();
  /** Per app: whether its state cannot be saved now, and its failed saves so far. */
  private readonly stateWrites = new Map<string, { failing: boolean; failures: number }>();

  /** Records a failed save of `app`'s state (state-writes.ts). */
  stateWriteFailed(app: string): void {
    const known = this.stateWrites.get(app) ?? { failing: false, failures: 0 };
    this.stateWrites.set(app, { failing: true, failures: known.failures + 1 });
  }

  /** Records that `app`'s state was saved again after failures. */
  stateWriteRecovered(app: string): void {
    const known = this.stateWrites.get(app);
    if (known) known.failing = false;
  }

  /** Records one tick's outcome. */
  observeTick(app: string, status: RolloutStatus, checks: CheckResults, tickSeconds: number): void {
    let g = this.apps.get(app);
    if (!g) {
      g = {
        weight: 0,
        phase: '',
        failedChecks: 0,
        metrics: new Map(),
        ticks: 0,
        tickSeconds: 0,
        analysisStartedAt: undefined,
        lastDurationSeconds: undefined,
      };
      this.apps.set(app, g);
    }
    const analysing =
      status.phase === 'Progressing' ||
      status.phase === 'WaitingPromotion' ||
      status.phase === 'Promoting' ||
      status.phase === 'Finalising';
    if (analysing && g.analysisStartedAt === undefined) g.analysisStartedAt = status.lastTransitionTime;
    if (!analysing && g.analysisStartedAt !== undefined) {
      g.lastDurationSeconds = (status.lastTransitionTime - g.analysisStartedAt) / 1000;
      g.analysisStartedAt = undefined;
    }
    g.weight = status.canaryWeight;
    g.phase = status.phase;
    g.failedChecks = status.failedChecks;
    for (const m of checks.metrics) if (m.value !== null) g.metrics.set(m.name, m.value);
    g.ticks++;
    g.tickSeconds += tickSeconds;
  }

  /** Prometheus text exposition. */
  render(): string {
    const out: string[] = [];
    const each = (
      name: string,
      help: string,
      type: string,
      line: (app: string, g: AppGauges) => string[],
    ): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [app, g] of this.apps) out.push(...line(escapeLabel(app), g));
    };
    each('aviary_rollout_canary_weight', 'Canary share of traffic, percent.', 'gauge', (a, g) => [
      `aviary_rollout_canary_weight{app="${a}"} ${g.weight}`,
    ]);
    each('aviary_rollout_phase', 'Rollout phase (1 for the current one).', 'gauge', (a, g) =>
      ROLLOUT_PHASES.map((p) => `aviary_rollout_phase{app="${a}",phase="${p}"} ${g.phase === p ? 1 : 0}`),
    );
    each('aviary_rollout_failed_checks', 'Failed checks in the current analysis.', 'gauge', (a, g) => [
      `aviary_rollout_failed_checks{app="${a}"} ${g.failedChecks}`,
    ]);
    each('aviary_rollout_metric_value', 'Last value of each metric check.', 'gauge', (a, g) =>
      [...g.metrics].map(
        ([m, v]) => `aviary_rollout_metric_value{app="${a}",metric="${escapeLabel(m)}"} ${v}`,
      ),
    );
    each(
      'aviary_rollout_analysis_duration_seconds',
      'Duration of the last finished analysis.',
      'gauge',
      (a, g) =>
        g.lastDurationSeconds === undefined
          ? []
          : [`aviary_rollout_analysis_duration_seconds{app="${a}"} ${g.lastDurationSeconds}`],
    );
    each('aviary_rollout_tick_seconds', 'Time spent in controller ticks.', 'summary', (a, g) => [
      `aviary_rollout_tick_seconds_sum{app="${a}"} ${g.tickSeconds}`,
      `aviary_rollout_tick_seconds_count{app="${a}"} ${g.ticks}`,
    ]);
    out.push(
      "# HELP aviary_rollout_state_write_failing 1 while the app's state cannot be saved (the rollout holds).",
      '# TYPE aviary_rollout_state_write_failing gauge',
      ...[...this.stateWrites].map(
        ([app, s]) => `aviary_rollout_state_write_failing{app="${escapeLabel(app)}"} ${s.failing ? 1 : 0}`,
      ),
      "# HELP aviary_rollout_state_write_failures_total Saves of the app's state that failed.",
      '# TYPE aviary_rollout_state_write_failures_total counter',
      ...[...this.stateWrites].map(
        ([app, s]) => `aviary_rollout_state_write_failures_total{app="${escapeLabel(app)}"} ${s.failures}`,
      ),
    );
    return out.join('\n') + '\n';
  }
}
