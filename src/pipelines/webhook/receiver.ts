/**
 * The embedded webhook receiver: its own HTTP listener with one route per forge
 * (`POST /hooks/github`, `/hooks/gitea`, `/hooks/gitlab`). A delivery goes through, in order:
 * admission by its remote address (429 rate, 503 in flight; docs/adr/0029-webhook-admission.md),
 * route (404, 405), media type (415), size (413), signature on the raw bytes (401), JSON (400), event kind
 * (200 ignored or pong), payload shape (400), repository (403), dedupe (200 duplicate), the
 * caller's `onPush`, then the durable dedupe record, and only then 202.
 * See docs/adr/0023-git-pipelines.md and issue 14, "Webhook receiver".
 *
 * Several sources may share a forge. The source is found by trying every secret configured
 * for that forge (each comparison in constant time) and keeping those that verify; the
 * payload's repository then picks among them. The payload is never read to choose a secret:
 * nothing of it is trusted, or even parsed, before a signature matched.
 *
 * A push whose repository is not the source's is refused with 403, not ignored with 200:
 * the sender holds a valid secret yet names another repository, which is a misconfigured
 * hook (a shared secret) that the forge's delivery log should show in red.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenFor } from '../../listen-failure.js';
import { WebhookAdmission } from './admission.js';
import { DedupeStore, deliveryKey, eventKey } from './dedupe-store.js';
import { displayHeader, FORGE_HEADERS, FORGES, type Forge } from './forge.js';
import { normaliseDelivery, type PushEvent } from './push-event.js';
import {
  resolveReceiverOptions,
  type ResolvedReceiverOptions,
  type WebhookReceiverOptions,
  type WebhookSource,
} from './receiver-options.js';
import { answer, fail } from './json-answer.js';
import { isJsonMediaType, readBoundedBody } from './request-body.js';
import { verifyDelivery } from './verify.js';

/** A running receiver. */
export interface WebhookReceiver {
  /** Base URL, e.g. `http://127.0.0.1:9400`; the routes are `${url}/hooks/<forge>`. */
  readonly url: string;
  /** Stops listening, cuts open connections, lets deliveries in progress finish their dedupe record. */
  close(): Promise<void>;
}

function sameRepository(a: string, b: string): boolean {
  // GitHub, Gitea and GitLab all resolve owner and name case-insensitively.
  return a.toLowerCase() === b.toLowerCase();
}

/** The request's path; `//` is a path here (RFC 9112 §3.2.1), and a target that is no URL has none. */
function pathOf(req: IncomingMessage): string {
  const target = req.url ?? '/';
  try {
    return new URL(target.startsWith('/') ? `http://receiver${target}` : target, 'http://receiver').pathname;
  } catch {
    return '';
  }
}

function routeOf(req: IncomingMessage): Forge | undefined {
  const path = pathOf(req);
  return FORGES.find((forge) => path === `/hooks/${forge}`);
}

/** Handles one request; every outcome is an answer, so a rejection here is a bug or a lost socket. */
async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  options: ResolvedReceiverOptions,
  store: DedupeStore,
): Promise<void> {
  const forge = routeOf(req);
  if (forge === undefined)
    return fail(
      res,
      404,
      'AVIARY_NOT_FOUND',
      `no route ${JSON.stringify(pathOf(req).slice(0, 100))}: expected POST ${FORGES.map((f) => `/hooks/${f}`).join(', ')}`,
    );
  if (req.method !== 'POST')
    return fail(res, 405, 'AVIARY_METHOD', `/hooks/${forge} takes POST, not ${req.method}`, {
      headers: { allow: 'POST' },
    });
  const candidates = options.sources.filter((source) => source.forge === forge);
  if (candidates.length === 0)
    return fail(res, 404, 'AVIARY_NOT_FOUND', `no webhook source is configured for forge ${forge}`);
  if (!isJsonMediaType(req.headers['content-type']))
    return fail(
      res,
      415,
      'AVIARY_BAD_REQUEST',
      `expected Content-Type application/json, got ${JSON.stringify(req.headers['content-type'] ?? '')} (set the webhook's content type to application/json)`,
    );
  const read = await readBoundedBody(req, options.maxBodyBytes);
  if (!read.ok)
    return fail(
      res,
      413,
      'AVIARY_BODY_TOO_LARGE',
      `expected a body of at most ${options.maxBodyBytes} bytes`,
      {
        headers: { connection: 'close' },
      },
    );

  // Every candidate is tried, none skipped on a match, so the time taken does not depend on which one matches.
  const verified = candidates.filter((source) =>
    verifyDelivery(forge, req.headers, read.body, source.secret),
  );
  if (verified.length === 0) {
    const header = displayHeader(FORGE_HEADERS[forge].authentication);
    const what =
      req.headers[FORGE_HEADERS[forge].authentication] === undefined ? 'is missing' : 'does not match';
    return fail(res, 401, 'AVIARY_UNAUTHORIZED', `${header} ${what}: expected ${expectation(forge)}`);
  }

  let payload: unknown;
  try {
    payload = JSON.parse(read.body.toString('utf8'));
  } catch (err) {
    return fail(res, 400, 'AVIARY_BAD_REQUEST', `expected a JSON body: ${(err as Error).message}`);
  }
  const outcome = normaliseDelivery(forge, req.headers, payload);
  switch (outcome.kind) {
    case 'ping':
      return answer(res, 200, { status: 'pong' });
    case 'ignored':
      return answer(res, 200, { status: 'ignored', reason: outcome.reason });
    case 'invalid':
      return fail(
        res,
        400,
        'AVIARY_BAD_REQUEST',
        `the ${forge} delivery is invalid: ${outcome.issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`,
        { body: { issues: outcome.issues } },
      );
    case 'push':
      return acceptPush(res, outcome.event, verified, options, store);
  }
}

function expectation(forge: Forge): string {
  switch (forge) {
    case 'github':
      return 'sha256=<hex HMAC-SHA256 of the raw body> made with the secret of a configured github source';
    case 'gitea':
      return 'the hex HMAC-SHA256 of the raw body made with the secret of a configured gitea source';
    case 'gitlab':
      return 'the secret token of a configured gitlab source';
  }
}

async function acceptPush(
  res: ServerResponse,
  event: PushEvent,
  verified: readonly WebhookSource[],
  options: ResolvedReceiverOptions,
  store: DedupeStore,
): Promise<void> {
  const source = verified.find((candidate) => sameRepository(candidate.repository, event.repository));
  if (source === undefined)
    return fail(
      res,
      403,
      'AVIARY_UNAUTHORIZED',
      `repository ${JSON.stringify(event.repository)} is not the one configured for this secret: expected ${verified.map((s) => JSON.stringify(s.repository)).join(' or ')}`,
    );
  if (event.deleted) return answer(res, 200, { status: 'ignored', reason: `${event.ref} was deleted` });

  const byDelivery = deliveryKey(event.forge, event.deliveryId);
  const claim = store.claim([byDelivery, eventKey(source.name, event.ref, event.after)]);
  if ('duplicate' in claim) {
    const reason =
      claim.duplicate === byDelivery
        ? `delivery ${event.deliveryId} was received before`
        : `${event.ref} at ${event.after} from source ${source.name} was received before under another delivery id`;
    return answer(res, 200, { status: 'duplicate', reason });
  }

  let decision;
  try {
    decision = await options.onPush(event, source);
  } catch (err) {
    claim.release();
    options.onError(err, `onPush failed for delivery ${event.deliveryId}`);
    return fail(
      res,
      500,
      'AVIARY_INTERNAL',
      `the push could not be queued; redeliver it once the receiver's log shows why`,
    );
  }
  if ('ignored' in decision) {
    // Not recorded: a redelivery after the configuration changed deserves a fresh decision.
    claim.release();
    return answer(res, 200, { status: 'ignored', reason: decision.ignored });
  }
  try {
    await claim.record();
  } catch (err) {
    // The claim stays held, so this process still refuses copies of the delivery.
    options.onError(err, `recording delivery ${event.deliveryId} failed`);
    return fail(
      res,
      500,
      'AVIARY_INTERNAL',
      `run ${decision.runId} was queued, but the delivery could not be recorded: after a restart a redelivery would run again`,
    );
  }
  answer(res, 202, { status: 'accepted', runId: decision.runId });
}

/**
 * Starts the receiver on its own listener.
 *
 * Order of the work for an accepted push: `onPush` queues the run, then both dedupe keys are
 * appended and fsync'd, then 202 is sent. A crash between the two can only make a later
 * redelivery run again (at-least-once), which the pipelines tolerate: a tag's artifact is
 * reused for the same commit, and a release already applied does nothing. The reverse order
 * could lose an accepted push for good. Copies arriving while `onPush` runs are refused, as
 * the keys are held from the moment the delivery is claimed.
 * @throws ConfigError for a bad option, ListenFailure when the port cannot be bound
 */
export async function startWebhookReceiver(options: WebhookReceiverOptions): Promise<WebhookReceiver> {
  const resolved = resolveReceiverOptions(options);
  const store = await DedupeStore.open({
    file: resolved.dedupeFile,
    maxEntries: resolved.dedupeMaxEntries,
    ...(resolved.dedupeFileSystem && { fileSystem: resolved.dedupeFileSystem }),
  });
  const admission = new WebhookAdmission(resolved);
  const inFlight = new Set<Promise<void>>();
  // Slow senders cannot hold the outward-facing port: headers within 10 s, the whole request within 30 s.
  const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
    // Before the body is read or any HMAC computed: a refused flood costs a header parse.
    const admitted = admission.admit(req.socket.remoteAddress);
    if (!admitted.admitted) {
      // 503 sheds the connection too, rather than reading a body it will not use.
      const close: Record<string, string> = admitted.status === 503 ? { connection: 'close' } : {};
      return fail(res, admitted.status, admitted.code, admitted.message, {
        headers: { 'retry-after': String(admitted.retryAfterSeconds), ...close },
      });
    }
    const work = handle(req, res, resolved, store)
      .catch((err: unknown) => {
        resolved.onError(err, `${req.method} ${req.url}`);
        if (!res.headersSent) fail(res, 500, 'AVIARY_INTERNAL', 'the delivery could not be handled');
      })
      .finally(() => {
        admitted.release();
        inFlight.delete(work);
      });
    inFlight.add(work);
  });
  await listenFor('webhook receiver port', async () => {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(resolved.port, resolved.host, () => resolve());
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await Promise.allSettled([...inFlight]);
      await closed;
      await store.close();
    },
  };
}
