/**
 * How rollouts read on the terminal: rows of `aviary status`, rows of `aviary get events`,
 * and the per-app block of `aviary watch` (phase, weight bar, the last checks with their
 * values against their thresholds, the last event). Pure functions of the API's answers,
 * so they are tested without a server.
 */
import { JUDGE_METRIC_NAME } from '../config/app-analysis.js';
import type { RolloutEventRecord } from '../rollout/controller/action-executor.js';
import type { RolloutView } from '../rollout/controller/controller.js';
import type { ReleaseRolloutView } from '../rollout/releases/release-view.js';
import type { Cell } from './render-table.js';
import { renderLine, type Paint, type Segment, type TerminalStyle } from './render-terminal.js';
import { formatAge, formatClock, formatTimestamp } from './render-time.js';
import { weightBarSegments } from './render-weight-bar.js';
import { judgeCheckOf, judgeOneLiner } from './render-judge.js';

/**
 * An app as the control API lists it: a rollout of the controller, or an app run from a
 * release file (`kind: 'release'`); with `threshold` (failed checks before a rollback) from
 * the app's analysis summary when the server has one.
 */
export type RolloutSummary = (RolloutView | ReleaseRolloutView) & { readonly threshold?: number };

function releaseOf(view: RolloutSummary): ReleaseRolloutView | undefined {
  return 'kind' in view && view.kind === 'release' ? view : undefined;
}

/** `backend-v1 50% · backend-v2 50%`: a release's versions and their weights. */
export function releaseSplit(view: ReleaseRolloutView): string {
  return view.release.versions.map((v) => `${v.name} ${v.weight}%`).join(' · ');
}

const PHASE_COLOURS: Readonly<Record<string, Paint>> = {
  Initialized: 'green',
  Succeeded: 'green',
  Failed: 'red',
  Waiting: 'yellow',
  WaitingPromotion: 'yellow',
  Terminating: 'dim',
};

/** Phase text with `(paused)` when an operator holds the rollout. */
export function phaseCell(view: RolloutSummary): { text: string; colour: Paint } {
  const release = releaseOf(view);
  if (release) {
    const draining = release.release.draining;
    return release.phase === 'Draining'
      ? { text: `Draining ${draining.join(', ')}`, colour: 'yellow' }
      : { text: 'Released', colour: 'green' };
  }
  const phase = view.status?.phase ?? 'Pending';
  const paused = view.status?.paused === true;
  return {
    text: paused ? `${phase} (paused)` : phase,
    colour: paused ? 'yellow' : (PHASE_COLOURS[phase] ?? 'cyan'),
  };
}

/** `20%`, with ` A/B` or ` +mirror` when the split is not a plain weighted one. */
export function canaryCell(view: RolloutSummary): string {
  const release = releaseOf(view);
  if (release) return releaseSplit(release);
  const status = view.status;
  if (!status) return '-';
  return `${status.canaryWeight}%${status.abTesting ? ' A/B' : ''}${status.mirror ? ' +mirror' : ''}`;
}

/** `1/5` (failed checks / threshold), or `1` when the threshold is not known. */
export function failedCell(view: RolloutSummary): Cell {
  if (releaseOf(view)) return '-';
  const failed = view.status?.failedChecks ?? 0;
  const text = typeof view.threshold === 'number' ? `${failed}/${view.threshold}` : String(failed);
  return { text, colour: failed > 0 ? 'red' : undefined };
}

/** The newest event of each app. */
export function lastEventByApp(events: readonly RolloutEventRecord[]): Map<string, RolloutEventRecord> {
  const last = new Map<string, RolloutEventRecord>();
  for (const event of events) {
    const seen = last.get(event.app);
    if (!seen || event.at >= seen.at) last.set(event.app, event);
  }
  return last;
}

/** Header of the `aviary status` table. */
export const STATUS_HEADERS = ['APP', 'PHASE', 'CANARY', 'FAILED', 'REVISION', 'LAST EVENT'] as const;

/** One `aviary status` row. */
export function statusRow(
  view: RolloutSummary,
  lastEvent: RolloutEventRecord | undefined,
  nowMs: number,
): Cell[] {
  return [
    view.app,
    phaseCell(view),
    canaryCell(view),
    failedCell(view),
    view.revision,
    lastEvent ? `${formatAge(lastEvent.at, nowMs)} ago  ${lastEvent.reason}: ${lastEvent.message}` : '-',
  ];
}

/** Header of the `aviary get events` table. */
export const EVENT_HEADERS = ['TIME', 'APP', 'REASON', 'MESSAGE'] as const;

/** One `aviary get events` row; warnings stand out on a terminal. */
export function eventRow(event: RolloutEventRecord): Cell[] {
  return [
    formatTimestamp(event.at),
    event.app,
    { text: event.reason, colour: event.severity === 'warning' ? 'yellow' : undefined },
    event.message,
  ];
}

/** Each check of the last analysis tick: mark, name, and value vs threshold (or the error). */
export function checkLines(view: RolloutSummary): { passed: boolean; name: string; detail: string }[] {
  const checks = view.lastChecks;
  if (!checks) return [];
  const metrics = checks.metrics.map((m) => {
    const sample = m.sampleSize !== undefined ? ` (n=${m.sampleSize})` : '';
    const detail =
      m.error !== undefined
        ? `error: ${m.error}`
        : m.value === null
          ? // A hold says why, e.g. the judge's "gathering evidence …: ~N more canary requests".
            `${m.detail ?? 'no values found'}${sample}`
          : `${m.detail ?? String(m.value)}${sample}`;
    return { passed: m.passed && m.value !== null && m.error === undefined, name: m.name, detail };
  });
  const hooks = checks.webhooks.map((h) => ({
    passed: h.ok,
    name: `${h.type} ${h.name}`,
    detail: h.message === '' ? (h.ok ? 'ok' : 'failed') : h.message,
  }));
  return [...metrics, ...hooks];
}

/** The block `aviary watch` draws for one app on a terminal. */
export function watchBlock(
  style: TerminalStyle,
  view: RolloutSummary,
  lastEvent: RolloutEventRecord | undefined,
): string[] {
  const phase = phaseCell(view);
  const failed = failedCell(view);
  const iterations = view.status?.iterations ? `  iteration ${view.status.iterations}` : '';
  const lines = [
    renderLine(style, [
      [view.app, 'bold'],
      ['  '],
      [phase.text, phase.colour],
      [`  revision ${view.revision}  failed `],
      typeof failed === 'string' ? [failed] : [failed.text, failed.colour],
      [iterations],
    ]),
    renderLine(style, [['  '], ...weightSegments(view)]),
  ];
  const checks = checkLines(view);
  const nameWidth = Math.max(0, ...checks.map((c) => c.name.length));
  const judge = judgeCheckOf(view.lastChecks);
  for (const check of checks) {
    lines.push(
      renderLine(style, [
        ['  '],
        check.passed ? ['✓', 'green'] : ['✗', 'red'],
        [` ${check.name.padEnd(nameWidth)}  ${check.detail}`],
      ]),
    );
    if (judge !== undefined && check.name === JUDGE_METRIC_NAME) {
      lines.push(
        renderLine(style, [[`    ${' '.repeat(nameWidth)}`], [judgeOneLiner(judge.evidence), 'dim']]),
      );
    }
  }
  if (lastEvent) {
    lines.push(
      renderLine(style, [
        [`  ${formatClock(lastEvent.at)} `, 'dim'],
        [lastEvent.reason, lastEvent.severity === 'warning' ? 'yellow' : undefined],
        [`  ${lastEvent.message}`],
      ]),
    );
  }
  return lines;
}

/** The weight bar of a rollout, or the split of a release. */
function weightSegments(view: RolloutSummary): Segment[] {
  const release = releaseOf(view);
  return release ? [[releaseSplit(release)]] : weightBarSegments(view.status?.canaryWeight ?? 0);
}

/** One appended line of `aviary watch` off a terminal when an app's status changes. */
export function watchStatusLine(view: RolloutSummary, nowMs: number): string {
  const segments: Segment[] = [
    [`${formatClock(nowMs)} ${view.app} ${phaseCell(view).text} `],
    ...weightSegments(view),
  ];
  const failed = failedCell(view);
  const checks = checkLines(view)
    .map((c) => `${c.name} ${c.detail} ${c.passed ? 'ok' : 'FAILED'}`)
    .join('; ');
  const text = segments.map(([t]) => t).join('');
  return `${text} failed ${typeof failed === 'string' ? failed : failed.text}${checks ? ` checks: ${checks}` : ''}`;
}

/** One appended line of `aviary watch` off a terminal for an event. */
export function watchEventLine(event: RolloutEventRecord): string {
  return `${formatClock(event.at)} ${event.app} ${event.reason}: ${event.message}`;
}

/** What makes a status worth a new line: phase, weight, failures, pause and check results. */
export function statusFingerprint(view: RolloutSummary): string {
  const s = view.status;
  return JSON.stringify([
    s?.phase,
    s?.canaryWeight,
    s?.failedChecks,
    s?.paused,
    view.revision,
    view.lastChecks,
    releaseOf(view)?.release.versions.map((v) => [v.name, v.weight, v.readyReplicas]),
    releaseOf(view)?.release.draining,
  ]);
}
