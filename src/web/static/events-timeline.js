// The events timeline: every app's rollout events, newest first, each with the phase and
// canary weight it was recorded at and, when a decision was based on checks, its evidence.
// Events come from GET /api/v1/events; the SSE stream says when to fetch the new ones.
// Evidence is drawn when its <details> opens, with the app's metric specs of that moment
// (threshold, window, minimum of requests), which the check results themselves do not carry:
// after an edit of an app's metrics, its older events show the new bounds.
import { evidenceView } from './checks-table.js';
import { h, replaceChildren } from './safe-dom.js';

/** Events kept on the page. */
const KEPT = 300;

function eventKey(event) {
  return `${event.at}\u0000${event.app}\u0000${event.reason}\u0000${event.message}`;
}

function clock(ms) {
  const d = new Date(ms);
  return d.toLocaleTimeString([], { hour12: false });
}

function evidenceDetails(event, metricsOf) {
  const body = h('div', { class: 'evidence-body' });
  return h(
    'details',
    {
      ontoggle: (toggle) => {
        if (toggle.target.open) replaceChildren(body, evidenceView(event.evidence, metricsOf(event.app)));
      },
    },
    h('summary', {}, 'evidence'),
    body,
  );
}

function eventItem(event, metricsOf) {
  return h(
    'li',
    { class: `event ${event.severity === 'warning' ? 'warning' : 'info'}`, 'data-reason': event.reason },
    h(
      'div',
      { class: 'event-head' },
      h('time', { datetime: new Date(event.at).toISOString() }, clock(event.at)),
      h('span', { class: 'event-app' }, event.app),
      h('span', { class: 'event-reason' }, event.reason),
      event.phase
        ? h('span', { class: 'event-state' }, `${event.phase} · canary ${event.canaryWeight}%`)
        : null,
    ),
    h('p', { class: 'event-message' }, event.message),
    event.evidence === undefined ? null : evidenceDetails(event, metricsOf),
  );
}

/**
 * A timeline in `list` (an <ol>); `add(events)` merges events, ignoring ones already shown.
 * `metricsOf(app)` returns the app's metric summaries for the evidence tables (default none).
 */
export function createTimeline(list, metricsOf = () => []) {
  const seen = new Set();
  let latest = 0;

  function insert(event) {
    const item = eventItem(event, metricsOf);
    item.dataset.at = String(event.at);
    const later = [...list.children].find((child) => Number(child.dataset.at) <= event.at);
    list.insertBefore(item, later ?? null);
  }

  function add(events) {
    for (const event of events) {
      const key = eventKey(event);
      if (seen.has(key)) continue;
      seen.add(key);
      latest = Math.max(latest, event.at);
      insert(event);
    }
    while (list.children.length > KEPT) list.lastElementChild.remove();
  }

  /**
   * `since` for the next fetch. The API returns events strictly after `since`, and two
   * events can share a millisecond, so ask from one ms earlier and let `add` drop repeats.
   */
  function since() {
    return Math.max(0, latest - 1);
  }

  return { add, since };
}
