// One app on the dashboard: its phase, the split of traffic between primary and canary, the
// operator's buttons, live charts per version, the checks behind the last decision and the
// sequential judge's evidence at its last check (judge-evidence.js).
// The card only draws; dashboard.js feeds it views, the analysis spec and traffic series,
// and carries out the actions it asks for.
import { metricsTable, webhookList } from './checks-table.js';
import { judgeCheckOf, judgePanel } from './judge-evidence.js';
import { createLineChart } from './line-chart.js';
import { h, replaceChildren } from './safe-dom.js';

/** Commands of the control API, in button order. */
const COMMANDS = [
  { action: 'promote', label: 'Promote', title: 'Skip the remaining steps and promote the canary now' },
  { action: 'pause', label: 'Pause', title: 'Hold the rollout where it is: no checks, no steps' },
  { action: 'resume', label: 'Resume', title: 'Continue a paused rollout' },
  { action: 'abort', label: 'Abort', title: 'Roll back now: all traffic to the primary, canary stopped' },
];

/** Manual gates the control API opens and closes. */
const GATES = ['confirm-rollout', 'confirm-traffic-increase', 'confirm-promotion', 'rollback'];

const VERSIONS = [
  { label: 'primary', className: 'primary' },
  { label: 'canary', className: 'canary' },
];

/** Three significant digits, no trailing zeros: 0.5, 23.8, 99.5, 1230. */
function compact(value) {
  return String(Number(value.toPrecision(3)));
}

const CHARTS = [
  { name: 'rps', title: 'Requests/s', field: 'rps', format: compact },
  {
    name: 'success',
    title: 'Success %',
    field: 'successRate',
    format: compact,
    includeZero: false,
    ceiling: 100,
  },
  { name: 'p50', title: 'p50 ms', field: 'p50Ms', format: compact },
  { name: 'p99', title: 'p99 ms', field: 'p99Ms', format: compact },
];

function short(revision) {
  return revision ? revision.slice(0, 7) : '—';
}

function thresholdsFor(chart, analysis) {
  const metric = (name) => analysis?.metrics.find((m) => m.name === name && m.template === null);
  const success = metric('request-success-rate')?.thresholdRange?.min;
  const duration = metric('request-duration')?.thresholdRange?.max;
  if (chart === 'success' && success !== undefined) return [{ value: success, label: `min ${success}` }];
  if (chart === 'p99' && duration !== undefined) return [{ value: duration, label: `max ${duration}` }];
  return [];
}

function weightBar(routing) {
  const canary = routing?.canaryWeight ?? 0;
  const primary = routing?.primaryWeight ?? 100 - canary;
  const segment = (className, weight, label) => {
    const span = h(
      'span',
      { class: `segment ${className}`, title: `${label} ${weight}%` },
      weight >= 8 ? `${weight}%` : '',
    );
    span.style.width = `${weight}%`;
    return span;
  };
  const notes = [
    routing?.mirror ? 'mirroring to canary' : null,
    routing?.abTesting ? 'A/B: matching requests only' : null,
  ];
  return [
    h(
      'div',
      { class: 'bar', 'data-canary-weight': canary },
      segment('primary', primary, 'primary'),
      segment('canary', canary, 'canary'),
    ),
    h(
      'div',
      { class: 'bar-labels' },
      h('span', { class: 'key primary' }, `primary ${primary}%`),
      h('span', { class: 'notes' }, notes.filter(Boolean).join(' · ')),
      h('span', { class: 'key canary' }, `canary ${canary}%`),
    ),
  ];
}

/** The bar of an app run from a release file: one segment per version, by its weight. */
function releaseBar(release) {
  const total = release.versions.reduce((sum, v) => sum + v.weight, 0) || 1;
  const segments = release.versions.map((v, i) => {
    const percent = Math.round((v.weight / total) * 1000) / 10;
    const span = h(
      'span',
      { class: `segment ${i % 2 === 0 ? 'primary' : 'canary'}`, title: `${v.name} ${v.tag} ${v.weight}` },
      percent >= 8 ? `${percent}%` : '',
    );
    span.style.width = `${percent}%`;
    return span;
  });
  return [
    h('div', { class: 'bar', 'data-release': 'true' }, segments),
    h(
      'div',
      { class: 'bar-labels' },
      release.versions.map((v) => h('span', { class: 'key' }, `${v.name} ${v.tag} ${v.weight}`)),
      release.draining.length > 0
        ? h('span', { class: 'notes' }, `draining ${release.draining.join(', ')}`)
        : null,
    ),
  ];
}

function releaseFacts(release) {
  const items = release.versions.map((v) => [
    v.name,
    `${v.tag} · weight ${v.weight} · ${v.share}% of traffic · ${v.readyReplicas}/${v.desiredReplicas} ready`,
  ]);
  items.push(['applied', new Date(release.appliedAt).toLocaleTimeString([], { hour12: false })]);
  return items.map(([term, value]) => h('div', {}, h('dt', {}, term), h('dd', {}, value)));
}

function facts(view, analysis) {
  if (view.kind === 'release') return releaseFacts(view.release);
  const status = view.status;
  const analysed = analysis !== undefined && !analysis.skipAnalysis;
  const items = [];
  if (status) {
    if (analysed) items.push(['failed checks', `${status.failedChecks} of ${analysis.threshold}`]);
    if (analysed && analysis.iterations)
      items.push(['iterations', `${status.iterations} of ${analysis.iterations}`]);
    items.push(['primary', short(status.primaryRevision)], ['canary', short(status.canaryRevision)]);
    items.push(['since', new Date(status.lastTransitionTime).toLocaleTimeString([], { hour12: false })]);
  }
  items.push(['desired', short(view.revision)]);
  if (analysed) {
    const steps =
      analysis.stepWeights.length > 0 ? analysis.stepWeights.join('/') : `+${analysis.stepWeight}`;
    const plan = analysis.iterations
      ? `${analysis.iterations} iterations`
      : `steps ${steps}% up to ${analysis.maxWeight}%`;
    items.push(['analysis', `every ${analysis.intervalMs / 1000}s, ${plan}`]);
  } else if (analysis) {
    items.push(['analysis', 'skipped: a new revision is promoted at once']);
  }
  if (view.pendingCommands > 0) items.push(['queued commands', String(view.pendingCommands)]);
  return items.map(([term, value]) => h('div', {}, h('dt', {}, term), h('dd', {}, value)));
}

/**
 * A card for `app`. `onAction(app, path, label)` is called with the control API path of a
 * button (e.g. `abort`, `gates/rollback/open`) and returns a promise of a message.
 */
export function createAppCard(app, onAction) {
  let view = {
    app,
    status: undefined,
    routing: undefined,
    lastChecks: undefined,
    revision: '',
    pendingCommands: 0,
  };
  let analysis;
  const phase = h('span', { class: 'phase', 'data-role': 'phase' }, 'Pending');
  const paused = h('span', { class: 'paused', hidden: true }, 'paused');
  const bar = h('div', { class: 'weights' });
  const factList = h('dl', { class: 'facts' });
  const notice = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite' });
  const checks = h('div', { class: 'checks-body' });
  const judge = h('div', { class: 'judge-body' });
  const charts = CHARTS.map((spec) => ({ spec, chart: createLineChart(spec) }));
  const gate = h(
    'select',
    { 'aria-label': 'gate' },
    GATES.map((g) => h('option', { value: g }, g)),
  );

  async function act(path, label) {
    replaceChildren(notice, `${label}…`);
    notice.className = 'notice';
    try {
      replaceChildren(notice, await onAction(app, path, label));
    } catch (err) {
      notice.className = 'notice error';
      replaceChildren(notice, `${label} failed: ${err.message}`);
    }
  }

  const buttons = COMMANDS.map(({ action, label, title }) =>
    h(
      'button',
      {
        type: 'button',
        class: `action ${action}`,
        'data-action': action,
        title,
        onclick: () => act(action, label),
      },
      label,
    ),
  );
  const gateButton = (verb) =>
    h(
      'button',
      {
        type: 'button',
        class: 'action gate',
        'data-action': `gate-${verb}`,
        onclick: () => act(`gates/${gate.value}/${verb}`, `${verb} ${gate.value}`),
      },
      verb === 'open' ? 'Open gate' : 'Close gate',
    );

  const actions = h(
    'div',
    { class: 'actions' },
    buttons,
    h('span', { class: 'gates' }, gate, gateButton('open'), gateButton('close')),
  );

  const chartsElement = h(
    'div',
    { class: 'charts' },
    charts.map((c) => c.chart.element),
  );
  const checksSection = h(
    'section',
    { class: 'checks-section' },
    h('h3', {}, 'Checks at the last analysis'),
    checks,
  );
  const judgeSection = h(
    'section',
    { class: 'judge-section', 'data-role': 'judge', hidden: true },
    h('h3', {}, 'Judge at its last check'),
    judge,
  );

  const element = h(
    'article',
    { class: 'app', 'data-app': app },
    h('header', {}, h('h2', {}, app), phase, paused),
    bar,
    factList,
    actions,
    notice,
    chartsElement,
    checksSection,
    judgeSection,
  );

  function render() {
    const release = view.kind === 'release';
    const name = release ? view.phase : (view.status?.phase ?? 'Pending');
    replaceChildren(phase, name);
    phase.className = `phase phase-${name}`;
    paused.hidden = !view.status?.paused;
    // A release file sets the weights: the rollout commands and gates do not apply to it.
    actions.hidden = release;
    chartsElement.hidden = release;
    checksSection.hidden = release;
    replaceChildren(bar, release ? releaseBar(view.release) : weightBar(view.routing));
    replaceChildren(factList, facts(view, analysis));
    replaceChildren(
      checks,
      metricsTable(view.lastChecks?.metrics ?? [], analysis?.metrics ?? []),
      webhookList(view.lastChecks?.webhooks ?? []),
    );
    const judgeCheck = release ? undefined : judgeCheckOf(view.lastChecks);
    judgeSection.hidden = judgeCheck === undefined;
    replaceChildren(judge, judgeCheck === undefined ? null : judgePanel(judgeCheck));
  }

  function updateTraffic(series) {
    for (const { spec, chart } of charts) {
      chart.update({
        fromMs: series.fromMs,
        toMs: series.toMs,
        timestamps: series.timestamps,
        series: VERSIONS.map((v) => ({ ...v, values: series.versions[v.label][spec.field] })),
        thresholds: thresholdsFor(spec.name, analysis),
      });
    }
  }

  render();
  return {
    element,
    /** The desired revision of the last view, to notice a changed spec. */
    revision: () => view.revision,
    updateView(next) {
      view = next;
      render();
    },
    updateAnalysis(next) {
      analysis = next;
      render();
    },
    updateTraffic,
  };
}
