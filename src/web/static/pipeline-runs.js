// The pipeline runs table (docs/adr/0023-git-pipelines.md): one row per run of
// GET /api/v1/pipelines/runs, newest first, with its state as a badge, how it ended, the
// commit it worked on and how long it took; rows are inserted and updated in place as the
// runs stream reports changes. Clicking a run selects it (pipeline-log.js shows its log);
// Cancel and Rerun are handed to the caller, which sends them with the operator's token.
import { h, replaceChildren } from './safe-dom.js';

/** States a run never leaves (src/pipelines/runs/run-record.ts TERMINAL_STATES). */
const TERMINAL = new Set(['succeeded', 'failed', 'timed-out', 'skipped', 'interrupted']);

/** Badge colour class of each state; an unknown state is shown neutral. */
const STATE_CLASS = {
  queued: 'pending',
  running: 'running',
  succeeded: 'passed',
  failed: 'failed',
  'timed-out': 'failed',
  interrupted: 'failed',
  skipped: 'skipped',
};

/** Rows kept on the page; the store itself keeps the last 500 runs. */
const KEPT = 200;

const COLUMNS = ['run', 'pipeline', 'source', 'ref', 'state', 'detail', 'commit', 'created', 'took', ''];

/** True when a run in `state` has ended. */
export function isTerminalState(state) {
  return TERMINAL.has(state);
}

/** The badge of a state: its text and colour class (`state passed`, `state running`, …). */
export function stateBadge(state) {
  return { text: state, className: `state ${STATE_CLASS[state] ?? 'unknown'}` };
}

/** A ref's short name: `refs/tags/v2.0.0` → `v2.0.0`, `refs/heads/main` → `main`. */
export function refName(ref) {
  return ref.replace(/^refs\/(?:tags|heads)\//, '');
}

/** The first 7 hex digits of a commit, or a dash when the run has not resolved one. */
export function shortCommit(commit) {
  return commit ? commit.slice(0, 7) : '–';
}

/** A duration as people read it: `850ms`, `12.4s`, `2m 05s`, `1h 02m`. */
export function formatDuration(ms) {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`;
  const minutes = Math.floor(seconds / 60);
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}

/**
 * How long a run took: from its start to its end, or to `now` while it runs. Undefined for a
 * run that never started (queued, or skipped before starting).
 */
export function runDuration(run, now) {
  if (!run.startedAt) return undefined;
  const end = run.endedAt ? Date.parse(run.endedAt) : now;
  return end - Date.parse(run.startedAt);
}

/** One line on how a run ended: its reason, else its first error (and how many more). */
export function runDetail(run) {
  if (run.reason) return run.reason;
  const errors = run.errors ?? [];
  if (errors.length === 0) return '';
  return errors.length === 1 ? errors[0] : `${errors[0]} (+${errors.length - 1} more)`;
}

/**
 * Orders run ids newest first. Ids are `run-<UTC time>-<counter>` and sort by creation
 * (run-record.ts compareRunIds): the time as text, then the counter as a number, which may
 * outgrow its four digits.
 */
export function newestFirst(a, b) {
  const cutA = a.lastIndexOf('-');
  const cutB = b.lastIndexOf('-');
  const timeA = a.slice(0, cutA);
  const timeB = b.slice(0, cutB);
  if (timeA !== timeB) return timeA < timeB ? 1 : -1;
  return Number(b.slice(cutB + 1)) - Number(a.slice(cutA + 1));
}

function clock(iso) {
  const d = new Date(iso);
  return d.toLocaleTimeString([], { hour12: false });
}

/**
 * A runs table in `container`. `onSelect(run)` is called when a run is clicked;
 * `onCommand(run, command)` with `cancel` or `rerun` resolves to a message or throws.
 */
export function createRunsTable(container, { onSelect, onCommand }) {
  const runs = new Map();
  const rows = new Map();
  let selected;
  const body = h('tbody');
  const notice = h('p', { class: 'notice', role: 'status', 'aria-live': 'polite' });
  const table = h(
    'table',
    { class: 'runs' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        COLUMNS.map((c) => h('th', { scope: 'col' }, c)),
      ),
    ),
    body,
  );
  replaceChildren(container, h('div', { class: 'runs-scroll' }, table), notice);

  async function command(run, name, label) {
    replaceChildren(notice, `${label} ${run.id}…`);
    notice.className = 'notice';
    try {
      replaceChildren(notice, await onCommand(run, name));
    } catch (err) {
      notice.className = 'notice error';
      replaceChildren(notice, `${label} ${run.id} failed: ${err.message}`);
    }
  }

  function commandButton(run) {
    const [name, label] = isTerminalState(run.state) ? ['rerun', 'Rerun'] : ['cancel', 'Cancel'];
    return h(
      'button',
      {
        type: 'button',
        class: `action ${name}`,
        'data-action': name,
        onclick: (event) => {
          event.stopPropagation();
          void command(runs.get(run.id) ?? run, name, label);
        },
      },
      label,
    );
  }

  function cells(run, now) {
    const badge = stateBadge(run.state);
    const took = runDuration(run, now);
    return [
      h(
        'th',
        { scope: 'row' },
        h('button', { type: 'button', class: 'run-link', title: 'Show the log' }, run.id),
      ),
      h('td', {}, run.pipeline),
      h('td', {}, run.source),
      h('td', { title: run.ref }, refName(run.ref)),
      h('td', {}, h('span', { class: badge.className, 'data-role': 'state' }, badge.text)),
      h('td', { class: 'detail' }, runDetail(run)),
      h('td', { class: 'commit', title: run.commit ?? '' }, shortCommit(run.commit)),
      h('td', {}, h('time', { datetime: run.createdAt }, clock(run.createdAt))),
      h('td', { class: 'number', 'data-role': 'took' }, took === undefined ? '–' : formatDuration(took)),
      h('td', {}, commandButton(run)),
    ];
  }

  function rowOf(run) {
    let row = rows.get(run.id);
    if (!row) {
      row = h('tr', { 'data-run': run.id, onclick: () => select(run.id) });
      rows.set(run.id, row);
      const older = [...body.children].find((child) => newestFirst(child.dataset.run, run.id) > 0);
      body.insertBefore(row, older ?? null);
    }
    return row;
  }

  function draw(run, now = Date.now()) {
    const row = rowOf(run);
    row.dataset.state = run.state;
    row.classList.toggle('selected', run.id === selected);
    replaceChildren(row, cells(run, now));
  }

  function select(id) {
    const run = runs.get(id);
    if (!run) return;
    const previous = selected;
    selected = id;
    if (previous !== undefined && rows.has(previous)) rows.get(previous).classList.remove('selected');
    rows.get(id).classList.add('selected');
    onSelect(run);
  }

  /** Adds or updates runs (any order); returns nothing. Trims the oldest past {@link KEPT}. */
  function upsert(...changed) {
    for (const run of changed) {
      runs.set(run.id, run);
      draw(run);
    }
    while (body.children.length > KEPT) {
      const last = body.lastElementChild;
      if (last.dataset.run === selected) break;
      runs.delete(last.dataset.run);
      rows.delete(last.dataset.run);
      last.remove();
    }
  }

  /** Updates the running rows' durations (only that cell: a button under the pointer stays). */
  function tick() {
    const now = Date.now();
    for (const run of runs.values()) {
      const took = run.state === 'running' ? runDuration(run, now) : undefined;
      const cell = took === undefined ? null : rows.get(run.id)?.querySelector('[data-role="took"]');
      if (cell) replaceChildren(cell, formatDuration(took));
    }
  }

  return { upsert, tick, select, size: () => runs.size, get: (id) => runs.get(id) };
}
