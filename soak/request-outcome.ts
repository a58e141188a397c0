/**
 * Whose fault a request of the soak's load is, when it fails (docs/adr/0028-soak-runner.md).
 * A failure is the app's only when it is provably a faulty release's own answer:
 * catalogdetail's 500 `{"error":"internal error","version":V}` with V a release the soak made
 * faulty, or the frontend's page reporting such a 500. Everything else is Aviary's: no answer
 * from the router (a connection error or a timeout), an answer the proxy made itself (plain
 * text opening with one of its failure texts, src/proxy/upstream-failure.ts, or `no route:`),
 * a frontend page saying the router failed it, and any failure the soak cannot explain.
 */
import { FAILURE_TEXT } from '../src/proxy/upstream-failure.js';

/** What the load generator got back: an answer, or the client error's code. */
export type Answer =
  | { readonly status: number; readonly contentType: string; readonly body: string }
  | { readonly error: string };

/** One request's outcome: ok, failed by a faulty release, or failed by Aviary (and how). */
export type Outcome =
  { readonly kind: 'ok' } | { readonly kind: 'app' } | { readonly kind: 'aviary'; readonly reason: string };

const OK: Outcome = { kind: 'ok' };
const APP: Outcome = { kind: 'app' };
const aviary = (reason: string): Outcome => ({ kind: 'aviary', reason });

/** The failure kind (`connect`, `reset`, `timeout`, `no-endpoint`) whose text `text` opens with. */
function proxyFailureKind(text: string): string | undefined {
  if (text.startsWith('no route:')) return 'no-route';
  return Object.entries(FAILURE_TEXT).find(([, prefix]) => text.startsWith(prefix))?.[0];
}

function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The outcome of `GET /catalogDetail/`; `isFaulty` says whether a version was released faulty. */
export function catalogOutcome(answer: Answer, isFaulty: (version: string) => boolean): Outcome {
  if ('error' in answer) return aviary(`client: ${answer.error}`);
  const { status, contentType, body } = answer;
  if (status === 200 && typeof jsonObject(body)?.version === 'string') return OK;
  if (contentType.startsWith('text/plain')) {
    const kind = proxyFailureKind(body);
    if (kind !== undefined) return aviary(`proxy: ${kind}`);
  }
  const json = jsonObject(body);
  if (status === 500 && json?.error === 'internal error' && isFaulty(String(json.version))) return APP;
  return aviary(`unexplained: ${status}`);
}

/** The frontend's error paragraph: the status it got from the router and what it read. */
const FRONTEND_ERROR = /<p id="error">The catalog is unavailable \((\d+)\): ([^<]*)<\/p>/;

/**
 * The outcome of `GET /` on the frontend, which calls catalogdetail through the router and
 * always answers 200, reporting a failed call on its page. Its page cannot name the version
 * that failed it, so an `internal error` 500 counts as the app's: only faulty releases answer it.
 */
export function frontendOutcome(answer: Answer): Outcome {
  if ('error' in answer) return aviary(`client: ${answer.error}`);
  const { status, body } = answer;
  if (status === 200 && body.includes('<strong id="version">')) return OK;
  const failed = status === 200 ? FRONTEND_ERROR.exec(body) : null;
  if (failed === null) return aviary(`unexplained: ${status}`);
  const [, innerStatus, message = ''] = failed;
  if (innerStatus === '500' && message === 'internal error') return APP;
  // Status 0: the frontend got no answer from the router at all.
  if (innerStatus === '0') return aviary(`frontend to router: ${message}`);
  const kind = proxyFailureKind(message);
  return aviary(kind === undefined ? `frontend: unexplained ${innerStatus}` : `frontend: proxy ${kind}`);
}
