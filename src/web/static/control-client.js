/* global window, fetch, sessionStorage */
// Calls to the control API from the page: same-origin relative URLs only. Reads are open;
// a mutation asks for the bearer token once and keeps it in sessionStorage (gone when the
// tab closes), then sends it as `Authorization: Bearer`. The token never goes in a cookie,
// so another site cannot make the browser send it (no CSRF).

const TOKEN_KEY = 'aviary.token';

/** The API's own message from a failed answer (`{error: {code, message}}`), or the status. */
export async function errorMessage(response) {
  try {
    const body = await response.json();
    if (body && body.error && typeof body.error.message === 'string') {
      return `${body.error.message} (${body.error.code ?? response.status})`;
    }
  } catch {
    // Not JSON: fall back to the status line.
  }
  return `HTTP ${response.status} ${response.statusText}`;
}

/**
 * What a refused command says. A 401 means the kept token is wrong (the page always sends
 * one): say so, and that the next try asks again, rather than the API's generic "send
 * Authorization: Bearer", which reads as if no token had been sent.
 */
export function refusalMessage(status, apiMessage) {
  if (status === 401) {
    return 'wrong token: the control API refused it. It is forgotten; the next action asks again (the token is in <stateDir>/token, or AVIARY_TOKEN)';
  }
  return apiMessage;
}

/** GETs a JSON document from the control API; throws with the API's message on failure. */
export async function getJson(path) {
  const response = await fetch(path, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  if (!response.ok) throw new Error(await errorMessage(response));
  return response.json();
}

/** Whether a token is kept for this tab. */
export function hasToken() {
  return sessionStorage.getItem(TOKEN_KEY) !== null;
}

/** Drops the kept token; the next action asks again. */
export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

function token() {
  const kept = sessionStorage.getItem(TOKEN_KEY);
  if (kept) return kept;
  const given = window.prompt(
    'Control API token (aviary up reads AVIARY_TOKEN or <stateDir>/token). It is kept for this tab only.',
  );
  if (given === null || given.trim() === '') throw new Error('no token given: nothing was sent');
  sessionStorage.setItem(TOKEN_KEY, given.trim());
  return given.trim();
}

/**
 * POSTs a command with the bearer token. A 401 forgets the token so the next try asks
 * again, and throws saying the token is wrong; other failures throw with the API's message.
 */
export async function postAction(path, body = {}) {
  const response = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { authorization: `Bearer ${token()}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status === 401) forgetToken();
  if (!response.ok) throw new Error(refusalMessage(response.status, await errorMessage(response)));
  return response.json();
}
