/* global fetch, TextDecoder, AbortController */
// The log of the selected pipeline run: GET /api/v1/pipelines/runs/{id}/log, read as a
// stream. While the run has not ended the page asks for `?follow=1`, and the server keeps
// the answer open and sends what the build appends until the run ends; the text is added
// as it arrives. Selecting another run or closing the panel aborts the fetch. The log is
// inserted as text only (a build may print markup).
import { errorMessage } from './control-client.js';
import { isTerminalState, stateBadge } from './pipeline-runs.js';
import { h, replaceChildren } from './safe-dom.js';

/** How close to the bottom (px) counts as "at the end": the view then keeps up with new lines. */
const STICK_PX = 8;

/** The log's address for `run`: followed while the run can still write to it. */
export function logPath(run) {
  const path = `/api/v1/pipelines/runs/${encodeURIComponent(run.id)}/log`;
  return isTerminalState(run.state) ? path : `${path}?follow=1`;
}

/**
 * A log panel in `element` (hidden until a run is shown). `show(run)` reads a run's log,
 * `update(run)` keeps its header current, `close()` hides it and stops reading.
 */
export function createLogPanel(element) {
  let current;
  let reading;
  let ended = false;
  const title = h('h3', {}, '');
  const badge = h('span', { 'data-role': 'state' });
  const status = h('span', { class: 'log-status', 'data-role': 'log-status' });
  const text = h('pre', { class: 'log', 'data-role': 'log', tabindex: '0' });
  const closeButton = h('button', { type: 'button', class: 'close', onclick: () => close() }, 'Close');
  element.hidden = true;
  replaceChildren(element, h('header', { class: 'log-head' }, title, badge, status, closeButton), text);

  function showStatus(following, message) {
    status.dataset.following = String(following);
    replaceChildren(status, message);
  }

  function append(chunk) {
    if (chunk === '') return;
    const atEnd = text.scrollHeight - text.scrollTop - text.clientHeight <= STICK_PX;
    text.appendChild(text.ownerDocument.createTextNode(chunk));
    if (atEnd) text.scrollTop = text.scrollHeight;
  }

  function showHeader(run) {
    const { text: label, className } = stateBadge(run.state);
    replaceChildren(title, `Log of ${run.id}`);
    replaceChildren(badge, label);
    badge.className = className;
  }

  async function read(run, controller) {
    const follow = !isTerminalState(run.state);
    showStatus(follow, follow ? 'following…' : 'loading…');
    const response = await fetch(logPath(run), {
      signal: controller.signal,
      credentials: 'same-origin',
      headers: { accept: 'text/plain' },
    });
    if (!response.ok) throw new Error(await errorMessage(response));
    const reader = response.body.getReader();
    // One decoder for the whole answer: a chunk may end inside a UTF-8 character.
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      // A read aborted by another selection must not add to that run's log.
      if (controller.signal.aborted) return;
      if (done) break;
      append(decoder.decode(value, { stream: true }));
    }
    append(decoder.decode());
  }

  function stop() {
    reading?.abort();
    reading = undefined;
  }

  function show(run) {
    stop();
    current = run;
    ended = false;
    element.hidden = false;
    element.dataset.run = run.id;
    showHeader(run);
    replaceChildren(text);
    const controller = new AbortController();
    reading = controller;
    read(run, controller).then(
      () => {
        if (reading !== controller) return;
        reading = undefined;
        ended = true;
        // The server ends a followed log when the run ends; the run's own update may come later.
        showStatus(false, isTerminalState(current.state) ? 'end of log' : 'log stream closed');
      },
      (err) => {
        if (reading !== controller) return;
        reading = undefined;
        showStatus(false, `cannot read the log: ${err.message}`);
      },
    );
  }

  function update(run) {
    if (current?.id !== run.id) return;
    current = run;
    showHeader(run);
    if (ended && isTerminalState(run.state)) showStatus(false, 'end of log');
  }

  function close() {
    stop();
    current = undefined;
    element.hidden = true;
    delete element.dataset.run;
  }

  return { show, update, close, shown: () => current?.id };
}
