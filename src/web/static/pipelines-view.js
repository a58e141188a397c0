/* global fetch, window, EventSource, setInterval */
// The dashboard's Pipelines section: loads the runs (GET /api/v1/pipelines/runs), follows
// their changes on the runs stream (SSE, `event: run` carrying the changed run), shows the
// log of the run clicked, and sends Cancel and Rerun with the operator's token. The section
// stays hidden while there is no run to show: without a `pipelines` block in aviary.yaml the
// list is empty (a control API without the runs API answers 404: hidden too).
import { errorMessage, postAction } from './control-client.js';
import { createLogPanel } from './pipeline-log.js';
import { createRunsTable } from './pipeline-runs.js';
import { h, replaceChildren } from './safe-dom.js';

const RUNS = '/api/v1/pipelines/runs';
/** How often a running run's duration is redrawn. */
const TICK_MS = 1000;

/** What a command's answer says: a rerun names the run it queued. */
function commandMessage(run, command, answer) {
  if (command === 'rerun') return answer?.id ? `rerun of ${run.id} queued as ${answer.id}` : 'rerun queued';
  return `cancel of ${run.id} accepted`;
}

/**
 * Starts the section in `section` (an element holding nothing yet). `onTokenUsed` is called
 * after every command, so the page can show whether a token is kept.
 */
export async function startPipelines(section, { onTokenUsed = () => {} } = {}) {
  const tableElement = h('div', { class: 'runs-body' });
  const logElement = h('section', { class: 'run-log', 'aria-label': 'Run log' });
  replaceChildren(section, h('h2', {}, 'Pipelines'), tableElement, logElement);
  section.hidden = true;

  const log = createLogPanel(logElement);

  async function onCommand(run, command) {
    if (command === 'cancel' && !window.confirm(`Cancel ${run.id} (${run.source} ${run.ref}) now?`)) {
      return 'cancel not sent';
    }
    try {
      const answer = await postAction(`${RUNS}/${encodeURIComponent(run.id)}/${command}`);
      return commandMessage(run, command, answer);
    } finally {
      onTokenUsed();
    }
  }

  const table = createRunsTable(tableElement, { onSelect: (run) => log.show(run), onCommand });

  function add(runs) {
    table.upsert(...runs);
    for (const run of runs) log.update(run);
    if (table.size() > 0) section.hidden = false;
  }

  async function load() {
    const response = await fetch(RUNS, {
      headers: { accept: 'application/json' },
      credentials: 'same-origin',
    });
    if (response.status === 404) return false;
    if (!response.ok) throw new Error(await errorMessage(response));
    add(await response.json());
    return true;
  }

  try {
    if (!(await load())) return;
  } catch (err) {
    section.hidden = false;
    replaceChildren(tableElement, h('p', { class: 'notice error' }, `cannot read the runs: ${err.message}`));
    return;
  }

  const stream = new EventSource(`${RUNS}/stream`);
  let opened = false;
  stream.addEventListener('open', () => {
    // After a reconnect, changes made while disconnected are read from the list once.
    if (opened) void load().catch(() => undefined);
    opened = true;
  });
  stream.addEventListener('run', (message) => add([JSON.parse(message.data)]));
  setInterval(() => table.tick(), TICK_MS);
}
