/**
 * Fuzzing webhook payloads (issue 16, "webhook payloads"): arbitrary JSON bodies with valid
 * signatures never start a run unless they are a valid push for the configured repository.
 *
 * The bulk (100,000 inputs) runs the pure classification, normaliseDelivery, against an
 * oracle written from the forges' documented push shapes. A smaller count goes over real
 * HTTP to a receiver on port 0, since each delivery costs a loopback round trip and a dedupe
 * record: there, `onPush` must be called exactly when the classification says "a push of a
 * live ref in the signing source's repository, not seen before", and every answer is a 2xx
 * or a 4xx.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Forge } from '../../src/pipelines/webhook/forge.js';
import { normaliseDelivery } from '../../src/pipelines/webhook/push-event.js';
import {
  forgeHeaders,
  githubPush,
  gitlabPush,
  post,
  SOURCES,
  startTestReceiver,
  TAG_COMMIT,
  ZERO,
  type TestReceiver,
} from '../../src/pipelines/webhook/test-support.js';
import { corpusDocuments, fuzzRuns, fuzzTimeoutMs, mutatedDocument } from './fuzz-support.js';

const RUNS = fuzzRuns();
/** Deliveries over HTTP: about 1.3 ms each on two shared cores, so 5,000 in CI take ~7 s. */
const HTTP_RUNS = Math.ceil(RUNS / 20);

const OBJECT_ID = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/** The repository a push payload names, per forge; https://docs.github.com/en/webhooks/webhook-events-and-payloads#push */
function payloadRepository(forge: Forge, payload: Record<string, unknown>): unknown {
  const holder = (forge === 'gitlab' ? payload.project : payload.repository) as
    Record<string, unknown> | undefined;
  return forge === 'gitlab' ? holder?.path_with_namespace : holder?.full_name;
}

/** The oracle: what a valid push of `forge` looks like, written apart from the parser. */
function isValidPush(forge: Forge, event: string, payload: unknown): boolean {
  const pushEvent = forge === 'gitlab' ? ['Push Hook', 'Tag Push Hook'].includes(event) : event === 'push';
  if (!pushEvent || payload === null || typeof payload !== 'object' || Array.isArray(payload)) return false;
  const p = payload as Record<string, unknown>;
  const repository = payloadRepository(forge, p);
  return (
    typeof p.ref === 'string' &&
    /^refs\/(heads|tags)\/\S+$/.test(p.ref) &&
    typeof p.before === 'string' &&
    OBJECT_ID.test(p.before) &&
    typeof p.after === 'string' &&
    OBJECT_ID.test(p.after) &&
    typeof repository === 'string' &&
    repository.length > 0 &&
    (forge === 'gitlab' || p.deleted === undefined || typeof p.deleted === 'boolean')
  );
}

const SEEDS = [
  ...corpusDocuments('webhook-payloads'),
  githubPush('refs/tags/v2.0.0', TAG_COMMIT, 'acme/catalogdetail'),
  githubPush('refs/heads/main', TAG_COMMIT, 'acme/deploy'),
  githubPush('refs/tags/v1.0.0', ZERO, 'acme/catalogdetail'),
  gitlabPush('refs/tags/v2.0.0', TAG_COMMIT, 'group/sub/catalogdetail'),
];

/** Any JSON, or a valid push with fields dropped or replaced, or one naming another repository. */
const payload: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  // A mutation may delete the whole document; a body is JSON text, so that is `null`.
  mutatedDocument(SEEDS).map((doc) => doc ?? null),
  fc.constantFrom(...SEEDS),
  fc
    .tuple(fc.constantFrom(...SEEDS), fc.constantFrom('ACME/CatalogDetail', 'acme/other', '', 'acme/deploy'))
    .map(([seed, repository]) => {
      const copy = structuredClone(seed) as Record<string, Record<string, unknown>>;
      if (copy.repository) copy.repository.full_name = repository;
      if (copy.project) copy.project.path_with_namespace = repository;
      return copy;
    }),
);

const forgeEvent = fc.oneof(
  fc
    .constantFrom<Forge>('github', 'gitea')
    .chain((forge) =>
      fc.tuple(fc.constant(forge), fc.constantFrom('push', 'ping', 'create', 'Push Hook', '')),
    ),
  fc.tuple(fc.constant<Forge>('gitlab'), fc.constantFrom('Push Hook', 'Tag Push Hook', 'push', 'Note Hook')),
);

describe('fuzz: webhook payloads, classification (normaliseDelivery)', () => {
  it(
    'says "push" only for a valid push, and names the payload\'s own ref, object and repository',
    () => {
      fc.assert(
        fc.property(forgeEvent, payload, ([forge, event], body) => {
          const headers = Object.fromEntries(
            Object.entries(forgeHeaders(forge, '', undefined, event)).map(([k, v]) => [k.toLowerCase(), v]),
          );
          const outcome = normaliseDelivery(forge, headers, body);
          expect(outcome.kind === 'push').toBe(isValidPush(forge, event, body));
          if (outcome.kind === 'push') {
            const p = body as Record<string, unknown>;
            expect(outcome.event.ref).toBe(p.ref);
            expect(outcome.event.after).toBe(p.after);
            expect(outcome.event.repository).toBe(payloadRepository(forge, p));
          }
          if (outcome.kind === 'invalid') expect(outcome.issues.length).toBeGreaterThan(0);
        }),
        { numRuns: RUNS },
      );
    },
    fuzzTimeoutMs(RUNS, 0.5),
  );
});

describe('fuzz: webhook payloads over HTTP, signed by a configured source', () => {
  let receiver: TestReceiver;
  beforeAll(async () => {
    // Thousands of deliveries from one address: admission (429 past the rate) is not what
    // this property is about, and has its own tests (receiver-admission.test.ts).
    receiver = await startTestReceiver({ rateLimit: { perSecond: 1_000_000, burst: 1_000_000 } });
  });
  afterAll(async () => {
    await receiver.dispose();
  });

  it(
    `starts a run only for a new push of a live ref in the signing source's repository (${HTTP_RUNS} deliveries)`,
    async () => {
      const seen = new Set<string>();
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...SOURCES),
          fc.boolean(),
          payload,
          async (source, pushEvent, body) => {
            const event =
              source.forge === 'gitlab'
                ? pushEvent
                  ? 'Tag Push Hook'
                  : 'Note Hook'
                : pushEvent
                  ? 'push'
                  : 'create';
            const text = JSON.stringify(body);
            const headers = forgeHeaders(source.forge, text, source.secret, event, randomUUID());
            const before = receiver.calls.length;
            const answer = await post(receiver.url, `/hooks/${source.forge}`, text, headers);
            expect(answer.status >= 200 && answer.status < 500, `status ${answer.status}`).toBe(true);

            const lowered = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
            const outcome = normaliseDelivery(source.forge, lowered, body);
            const pushed =
              outcome.kind === 'push' &&
              !outcome.event.deleted &&
              outcome.event.repository.toLowerCase() === source.repository.toLowerCase();
            const key = pushed ? `${source.name} ${outcome.event.ref} ${outcome.event.after}` : '';
            const expected = pushed && !seen.has(key);
            if (expected) seen.add(key);
            expect(receiver.calls.length - before).toBe(expected ? 1 : 0);
            if (expected) expect(answer.status).toBe(202);
          },
        ),
        { numRuns: HTTP_RUNS },
      );
      expect(receiver.errors).toEqual([]);
    },
    fuzzTimeoutMs(HTTP_RUNS, 20),
  );
});
