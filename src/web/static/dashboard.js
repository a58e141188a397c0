/* global document, window, EventSource, setInterval */
// Entry point of the dashboard page: loads the rollouts and the event history, follows the
// control API's SSE stream (`status` redraws a card, `event` fetches the new events), and
// refreshes each app's traffic charts every few seconds; the Pipelines section follows its
// own runs stream (pipelines-view.js). Every call is same-origin.
import { createAppCard } from './app-card.js';
import { forgetToken, getJson, hasToken, postAction } from './control-client.js';
import { createTimeline } from './events-timeline.js';
import { startPipelines } from './pipelines-view.js';
import { replaceChildren } from './safe-dom.js';

/** Chart span and refresh period. */
const SERIES_SECONDS = 300;
const SERIES_STEP = 5;
const CHART_REFRESH_MS = 3000;

/** Actions that change what users get: confirm them first. */
const CONFIRM = { abort: 'roll back', promote: 'promote' };

const appsContainer = document.getElementById('apps');
const connection = document.getElementById('connection');
const tokenButton = document.getElementById('forget-token');
const cards = new Map();
/** Each app's analysis summary, for its card and the evidence of its events. */
const analyses = new Map();
const timeline = createTimeline(document.getElementById('events'), (app) => analyses.get(app)?.metrics ?? []);

function showConnection(state, text) {
  connection.className = `connection ${state}`;
  replaceChildren(connection, text);
}

function showTokenState() {
  tokenButton.hidden = !hasToken();
}

async function runAction(app, path, label) {
  const verb = CONFIRM[path];
  if (verb && !window.confirm(`${label} ${app}: ${verb} now?`)) return `${label} cancelled`;
  try {
    await postAction(`/api/v1/rollouts/${encodeURIComponent(app)}/${path}`);
  } finally {
    showTokenState();
  }
  return `${label} accepted; applied at the next tick`;
}

async function loadAnalysis(app, card) {
  try {
    const analysis = await getJson(`/api/v1/rollouts/${encodeURIComponent(app)}/analysis`);
    analyses.set(app, analysis);
    card.updateAnalysis(analysis);
  } catch {
    // The card still shows the measured values; the next revision change retries.
  }
}

function cardFor(view) {
  let card = cards.get(view.app);
  if (!card) {
    card = createAppCard(view.app, runAction);
    cards.set(view.app, card);
    appsContainer.querySelector('.empty')?.remove();
    appsContainer.appendChild(card.element);
    void loadAnalysis(view.app, card);
  } else if (card.revision() !== view.revision) {
    void loadAnalysis(view.app, card);
  }
  return card;
}

function showView(view) {
  cardFor(view).updateView(view);
}

let refreshing = false;
async function refreshCharts() {
  if (refreshing) return;
  refreshing = true;
  try {
    await Promise.all(
      [...cards.entries()].map(async ([app, card]) => {
        const path = `/api/v1/rollouts/${encodeURIComponent(app)}/traffic?seconds=${SERIES_SECONDS}&step=${SERIES_STEP}`;
        card.updateTraffic(await getJson(path));
      }),
    );
  } catch {
    // Shown by the connection state; the next refresh retries.
  } finally {
    refreshing = false;
  }
}

let eventsPending;
function fetchEventsSoon() {
  if (eventsPending) return;
  // Several events arrive per tick; one fetch after the burst picks them all up.
  eventsPending = setTimeout(async () => {
    eventsPending = undefined;
    try {
      timeline.add(await getJson(`/api/v1/events?since=${timeline.since()}`));
    } catch {
      // The next event triggers another fetch.
    }
  }, 150);
}

function follow() {
  const stream = new EventSource('/api/v1/events/stream');
  stream.addEventListener('open', () => {
    showConnection('live', 'live');
    fetchEventsSoon();
  });
  stream.addEventListener('error', () => showConnection('down', 'reconnecting…'));
  stream.addEventListener('status', (message) => showView(JSON.parse(message.data)));
  stream.addEventListener('event', () => fetchEventsSoon());
}

async function start() {
  tokenButton.addEventListener('click', () => {
    forgetToken();
    showTokenState();
  });
  showTokenState();
  void startPipelines(document.getElementById('pipelines'), { onTokenUsed: showTokenState });
  try {
    const views = await getJson('/api/v1/rollouts');
    for (const view of views) showView(view);
    if (views.length === 0)
      appsContainer
        .querySelector(':scope > .empty')
        ?.replaceChildren('No apps yet: add one to aviary.yaml or apply a release file.');
    timeline.add(await getJson('/api/v1/events'));
  } catch (err) {
    showConnection('down', `cannot read the control API: ${err.message}`);
  }
  follow();
  await refreshCharts();
  setInterval(() => void refreshCharts(), CHART_REFRESH_MS);
}

void start();
