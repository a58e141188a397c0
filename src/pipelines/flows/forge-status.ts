/**
 * Commit statuses on the forge a source lives on, so a push shows how its pipeline went:
 * - GitHub: `POST {api}/repos/{owner}/{repo}/statuses/{sha}` with `{state, context,
 *   description, target_url}`, `Authorization: Bearer <token>` (docs.github.com, "Create a
 *   commit status"); states pending, success, failure, error.
 * - Gitea/Forgejo: the same path and body under `/api/v1`, `Authorization: token <token>`.
 * - GitLab: `POST {api}/projects/:id/statuses/:sha` with `state`, `name` (the context),
 *   `description`, `target_url`, `PRIVATE-TOKEN: <token>`; `:id` is the URL-encoded project
 *   path; states pending, running, success, failed, canceled.
 * Security: the token is sent in a header only, and masked in whatever text an error carries.
 */
import { maskSecrets } from '../build/secret-mask.js';
import type { Forge } from '../webhook/forge.js';
import { FlowError } from './flow-error.js';

/** Where and as whom statuses are posted for one source. */
export interface ForgeStatusTarget {
  readonly forge: Forge;
  /** The API root: `https://api.github.com`, `https://gitea.example/api/v1`, `https://gitlab.com/api/v4`. */
  readonly apiBaseUrl: string;
  /** `owner/name`, or GitLab's path with its namespace. */
  readonly repository: string;
  /** The API token. Security: never logged, never in an error. */
  readonly token: string;
}

/** One commit status. */
export interface CommitStatus {
  readonly state: 'pending' | 'success' | 'failure';
  /** `aviary/build` or `aviary/release`. */
  readonly context: string;
  /** At most 140 characters are sent (GitHub's limit). */
  readonly description: string;
  readonly targetUrl?: string;
}

/** How long a status call may take before it is given up. */
const STATUS_TIMEOUT_MS = 10_000;
const MAX_DESCRIPTION = 140;

function request(target: ForgeStatusTarget, sha: string, status: CommitStatus) {
  const base = target.apiBaseUrl.replace(/\/+$/, '');
  const description =
    status.description.length > MAX_DESCRIPTION
      ? `${status.description.slice(0, MAX_DESCRIPTION - 1)}…`
      : status.description;
  const targetUrl = status.targetUrl === undefined ? {} : { target_url: status.targetUrl };
  if (target.forge === 'gitlab') {
    return {
      url: `${base}/projects/${encodeURIComponent(target.repository)}/statuses/${sha}`,
      headers: { 'PRIVATE-TOKEN': target.token },
      body: {
        state: status.state === 'failure' ? 'failed' : status.state,
        name: status.context,
        description,
        ...targetUrl,
      },
    };
  }
  const [owner, name, ...rest] = target.repository.split('/');
  if (owner === undefined || name === undefined || rest.length > 0 || owner === '' || name === '')
    throw new FlowError(
      'AVIARY_FLOW_INVALID_OPTION',
      `status.repository ${JSON.stringify(target.repository)}: expected owner/name`,
    );
  return {
    url: `${base}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/statuses/${sha}`,
    headers: { Authorization: target.forge === 'gitea' ? `token ${target.token}` : `Bearer ${target.token}` },
    body: { state: status.state, context: status.context, description, ...targetUrl },
  };
}

/**
 * Posts `status` for commit `sha`. Rejects with FlowError `AVIARY_FLOW_STATUS_FAILED` (the forge,
 * the URL and the answer, the token masked) when the forge cannot be reached or answers
 * other than 2xx.
 */
export async function postCommitStatus(
  target: ForgeStatusTarget,
  sha: string,
  status: CommitStatus,
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  if (!/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(sha))
    throw new FlowError(
      'AVIARY_FLOW_INVALID_OPTION',
      `sha ${JSON.stringify(sha)}: expected a full commit id`,
    );
  const { url, headers, body } = request(target, sha, status);
  const hide = (text: string): string => maskSecrets(text, [target.token]);
  const signals = [AbortSignal.timeout(STATUS_TIMEOUT_MS), ...(options.signal ? [options.signal] : [])];
  let answer: Response;
  try {
    answer = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.any(signals),
      redirect: 'error',
    });
  } catch (error) {
    const why = error instanceof Error ? `${error.message}${causeOf(error)}` : String(error);
    throw new FlowError(
      'AVIARY_FLOW_STATUS_FAILED',
      hide(`${target.forge} status ${status.context} → ${url}: ${why}`),
    );
  }
  if (answer.ok) {
    await answer.body?.cancel();
    return;
  }
  const text = (await answer.text().catch(() => '')).slice(0, 300);
  throw new FlowError(
    'AVIARY_FLOW_STATUS_FAILED',
    hide(
      `${target.forge} status ${status.context} → ${url}: HTTP ${answer.status}${text === '' ? '' : `: ${text}`}`,
    ),
  );
}

function causeOf(error: Error): string {
  return error.cause instanceof Error ? ` (${error.cause.message})` : '';
}
