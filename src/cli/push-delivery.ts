/**
 * What the installed `post-receive` hook does (`aviary pipelines hook deliver`): for each
 * `<old> <new> <ref>` line git gives it on stdin (githooks(5), "post-receive"), POST a push
 * shaped as GitHub's to Aviary's webhook receiver, signed as GitHub signs it
 * (`X-Hub-Signature-256`: the HMAC-SHA256 of the body,
 * https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries).
 *
 * The refs are already updated when the hook runs, so nothing here may fail the push: a
 * receiver that is down or refuses is a warning. The secret is only used to sign; it is
 * never printed, and never passed on a command line.
 */
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { runGitQuery } from '../pipelines/git/git-command.js';
import { githubSignature } from '../pipelines/webhook/index.js';

/** One updated ref, as git reports it to the hook. */
export interface RefUpdate {
  readonly before: string;
  readonly after: string;
  /** The full ref, e.g. `refs/tags/v2.0.0`. */
  readonly ref: string;
}

const OBJECT_ID = '[0-9a-f]{40}(?:[0-9a-f]{24})?';
const UPDATE_LINE = new RegExp(`^(${OBJECT_ID}) (${OBJECT_ID}) (refs/\\S+)$`);
const ZERO = /^0+$/;

/** GitHub's limit for answering a delivery; the receiver answers well within it. */
export const DELIVERY_TIMEOUT_MS = 10_000;

/** The updates of the hook's stdin; lines that are not `<old> <new> <ref>` come back in `skipped`. */
export function parseRefUpdates(text: string): { updates: RefUpdate[]; skipped: string[] } {
  const updates: RefUpdate[] = [];
  const skipped: string[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.replace(/\r$/, '');
    if (trimmed === '') continue;
    const match = UPDATE_LINE.exec(trimmed);
    if (match === null) skipped.push(trimmed);
    else updates.push({ before: match[1]!, after: match[2]!, ref: match[3]! });
  }
  return { updates, skipped };
}

/**
 * The body GitHub sends for a push of `update` (the fields Aviary and Tekton's GitHub
 * interceptor read). `after` is the object the ref points at, the tag object for an
 * annotated tag; `head_commit.id` is the commit it peels to; null when the ref was deleted.
 */
export function githubPushPayload(
  update: RefUpdate,
  repository: string,
  cloneUrl: string,
  headCommit: string | null,
): Record<string, unknown> {
  return {
    ref: update.ref,
    before: update.before,
    after: update.after,
    created: ZERO.test(update.before),
    deleted: ZERO.test(update.after),
    repository: { full_name: repository, clone_url: cloneUrl },
    head_commit: headCommit === null ? null : { id: headCommit },
  };
}

/** Where and how to deliver. */
export interface DeliveryOptions {
  /** The receiver's endpoint, e.g. `http://127.0.0.1:8082/hooks/github`. */
  readonly url: string;
  /** `owner/name`, sent as `repository.full_name`. */
  readonly repository: string;
  /** Security: only signs; never printed. */
  readonly secret: string;
  /** Sent as `repository.clone_url` (the receiver fetches from its own configuration, never from this). */
  readonly cloneUrl: string;
  /** The commit an object id peels to, or undefined (a seam; default {@link gitPeeler}). */
  readonly peel: (objectId: string) => Promise<string | undefined>;
  /** Default {@link DELIVERY_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  readonly log: (line: string) => void;
  readonly warn: (line: string) => void;
}

/** What one delivery got: the receiver's status, or undefined when it could not be reached. */
export interface DeliveryResult {
  readonly ref: string;
  readonly deliveryId: string;
  readonly status?: number;
}

/** Peels object ids in the repository `gitDir` with `git rev-parse --verify --quiet <id>^{commit}`. */
export function gitPeeler(gitDir: string): (objectId: string) => Promise<string | undefined> {
  return async (objectId) => {
    const output = await runGitQuery(['rev-parse', '--verify', '--quiet', `${objectId}^{commit}`], {
      home: tmpdir(),
      gitDir,
    }).catch(() => undefined);
    const id = output?.stdout.toString('utf8').trim();
    return id === undefined || id === '' ? undefined : id;
  };
}

/** The receiver's answer on one line, at most 300 characters. */
function summary(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/** POSTs one update; never rejects. */
async function deliverOne(update: RefUpdate, options: DeliveryOptions): Promise<DeliveryResult> {
  const deliveryId = randomUUID();
  const head = ZERO.test(update.after) ? null : ((await options.peel(update.after)) ?? update.after);
  const body = Buffer.from(
    JSON.stringify(githubPushPayload(update, options.repository, options.cloneUrl, head)),
  );
  try {
    const res = await fetch(options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'aviary-post-receive',
        'x-github-event': 'push',
        'x-github-delivery': deliveryId,
        'x-hub-signature-256': githubSignature(options.secret, body),
      },
      body,
      signal: AbortSignal.timeout(options.timeoutMs ?? DELIVERY_TIMEOUT_MS),
    });
    const answer = summary(await res.text());
    const line = `aviary: ${update.ref}: ${res.status} ${answer}`;
    if (res.ok) options.log(line);
    else options.warn(`${line} (the push itself succeeded)`);
    return { ref: update.ref, deliveryId, status: res.status };
  } catch (err) {
    const cause = (err as Error & { cause?: { message?: string } }).cause?.message;
    options.warn(
      `aviary: warning: ${update.ref} not delivered to ${options.url}: ${(err as Error).message}${cause === undefined ? '' : ` (${cause})`}; the push itself succeeded`,
    );
    return { ref: update.ref, deliveryId };
  }
}

/** Delivers each update in order, one POST each with its own delivery id. Never rejects. */
export async function deliverRefUpdates(
  updates: readonly RefUpdate[],
  options: DeliveryOptions,
): Promise<DeliveryResult[]> {
  const results: DeliveryResult[] = [];
  for (const update of updates) results.push(await deliverOne(update, options));
  return results;
}
