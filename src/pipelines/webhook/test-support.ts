/**
 * What the webhook tests share: payloads shaped like each forge's push (trimmed to the fields
 * the receiver reads, plus a few it must ignore), signed requests sent over real HTTP, and a
 * receiver on port 0 whose `onPush` records what it was given.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { request } from 'undici';
import type { Forge } from './forge.js';
import type { PushEvent } from './push-event.js';
import type { PushDecision, WebhookReceiverOptions, WebhookSource } from './receiver-options.js';
import { startWebhookReceiver, type WebhookReceiver } from './receiver.js';
import { giteaSignature, githubSignature } from './verify.js';

export const TAG_COMMIT = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678';
export const ZERO = '0'.repeat(40);

/** A GitHub (or Gitea: same shape) push payload. */
export function githubPush(ref: string, after: string, repository: string, extra: object = {}): object {
  const [owner = '', name = ''] = repository.split('/');
  return {
    ref,
    before: ZERO,
    after,
    created: true,
    deleted: after === ZERO,
    forced: false,
    repository: {
      name,
      full_name: repository,
      owner: { login: owner },
      clone_url: 'https://evil.example/x.git',
    },
    head_commit: after === ZERO ? null : { id: after, message: 'release' },
    ...extra,
  };
}

/** A GitLab `Push Hook` / `Tag Push Hook` payload. */
export function gitlabPush(ref: string, after: string, project: string): object {
  return {
    object_kind: ref.startsWith('refs/tags/') ? 'tag_push' : 'push',
    ref,
    before: ZERO,
    after,
    checkout_sha: after === ZERO ? null : after,
    project: { path_with_namespace: project, git_http_url: 'https://evil.example/x.git' },
  };
}

/** Headers a forge sends with `body` for `event`, signed with `secret` (undefined: unsigned). */
export function forgeHeaders(
  forge: Forge,
  body: string,
  secret: string | undefined,
  event: string,
  deliveryId: string = randomUUID(),
): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (forge === 'github') {
    Object.assign(headers, { 'x-github-event': event, 'x-github-delivery': deliveryId });
    if (secret !== undefined) headers['x-hub-signature-256'] = githubSignature(secret, Buffer.from(body));
  } else if (forge === 'gitea') {
    Object.assign(headers, { 'x-gitea-event': event, 'x-gitea-delivery': deliveryId });
    if (secret !== undefined) headers['x-gitea-signature'] = giteaSignature(secret, Buffer.from(body));
  } else {
    Object.assign(headers, { 'x-gitlab-event': event, 'idempotency-key': deliveryId });
    if (secret !== undefined) headers['x-gitlab-token'] = secret;
  }
  return headers;
}

/** An answer: status and parsed JSON body. */
export interface Answer {
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read answers field by field, as eslint.config.js allows in *.test.ts
  readonly body: any;
}

/** POSTs `body` to `${url}${path}` with `headers` over a real connection; an iterable is sent chunked, with no length. */
export async function post(
  url: string,
  path: string,
  body: string | Buffer | Iterable<Buffer>,
  headers: Record<string, string>,
): Promise<Answer> {
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : Readable.from(body);
  const res = await request(`${url}${path}`, { method: 'POST', body: payload, headers });
  const text = await res.body.text();
  const parsed: unknown = text === '' ? undefined : JSON.parse(text);
  return { status: res.statusCode, body: parsed };
}

/** Sends a signed delivery of `payload` as `forge` would. */
export function deliver(
  url: string,
  forge: Forge,
  payload: object,
  options: { secret: string | undefined; event: string; deliveryId?: string },
): Promise<Answer> {
  const body = JSON.stringify(payload);
  return post(
    url,
    `/hooks/${forge}`,
    body,
    forgeHeaders(forge, body, options.secret, options.event, options.deliveryId),
  );
}

/** The sources most tests use: two GitHub repositories (one endpoint), one Gitea, one GitLab. */
export const SOURCES: readonly WebhookSource[] = [
  { name: 'app', forge: 'github', repository: 'acme/catalogdetail', secret: 'app-secret' },
  { name: 'deploy', forge: 'github', repository: 'acme/deploy', secret: 'deploy-secret' },
  { name: 'mirror', forge: 'gitea', repository: 'acme/catalogdetail', secret: 'gitea-secret' },
  { name: 'lab', forge: 'gitlab', repository: 'group/sub/catalogdetail', secret: 'gitlab-token' },
];

/** A receiver on 127.0.0.1:0 with a fresh dedupe file; `calls` lists what `onPush` received. */
export interface TestReceiver {
  readonly receiver: WebhookReceiver;
  readonly url: string;
  readonly dedupeFile: string;
  readonly calls: { event: PushEvent; source: WebhookSource }[];
  readonly errors: string[];
  /** Closes the receiver and starts another on the same dedupe file. */
  restart(): Promise<TestReceiver>;
  /** Closes the receiver and removes its directory. */
  dispose(): Promise<void>;
}

/** Starts a {@link TestReceiver}; `decide` answers each push (default: a new run id). */
export async function startTestReceiver(
  options: Partial<WebhookReceiverOptions> & {
    decide?: (event: PushEvent, source: WebhookSource) => Promise<PushDecision>;
  } = {},
  dir?: string,
): Promise<TestReceiver> {
  const home = dir ?? (await mkdtemp(join(tmpdir(), 'aviary-webhook-')));
  const dedupeFile = join(home, 'state', 'webhook-dedupe.jsonl');
  const calls: TestReceiver['calls'] = [];
  const errors: string[] = [];
  const { decide, ...rest } = options;
  const receiver = await startWebhookReceiver({
    sources: SOURCES,
    port: 0,
    dedupeFile,
    onError: (_err, context) => errors.push(context),
    onPush: (event, source) => {
      calls.push({ event, source });
      return decide ? decide(event, source) : Promise.resolve({ runId: `run-${calls.length}` });
    },
    ...rest,
  });
  return {
    receiver,
    url: receiver.url,
    dedupeFile,
    calls,
    errors,
    async restart() {
      await receiver.close();
      return startTestReceiver(options, home);
    },
    async dispose() {
      await receiver.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}
