/**
 * Turns a verified, parsed delivery from GitHub, Gitea/Forgejo or GitLab into one
 * {@link PushEvent}, or says why it is not one. Validation is by schema, so a malformed
 * payload is refused with path-named issues (`repository.full_name: is required`).
 *
 * Which events are pushes:
 * - GitHub `push`; `ping` is recognised and answered; every other event (`create`,
 *   `delete`, `release`, …) is ignored.
 * - Gitea and Forgejo `push`; their `create` and `delete` events are ignored likewise.
 * - GitLab `Push Hook` and `Tag Push Hook`.
 *
 * GitHub's `create` event is ignored on purpose. A tag push sends both `push` and `create`,
 * and a CI system acting on both builds twice. `create` carries no `after`, so it could not
 * even share the push's dedupe key (source, ref, after) without a git lookup; the `push` of
 * the same tag carries everything a build needs, and a tag created through the API sends a
 * `push` too.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import type { ConfigIssue } from '../../config/config-error.js';
import { toConfigIssues } from '../../config/schema-issues.js';
import { displayHeader, FORGE_HEADERS, firstHeader, type Forge } from './forge.js';

/** One push to a branch or a tag, the same whatever forge sent it. */
export interface PushEvent {
  readonly forge: Forge;
  /** The forge's delivery id (`X-GitHub-Delivery`, `X-Gitea-Delivery`, GitLab's `Idempotency-Key`). */
  readonly deliveryId: string;
  /** The forge's event name: `push`, `Push Hook` or `Tag Push Hook`. */
  readonly event: string;
  /** The full ref, e.g. `refs/tags/v2.0.0`. */
  readonly ref: string;
  readonly kind: 'tag' | 'branch';
  /** The tag or branch name, the ref without `refs/tags/` or `refs/heads/`. */
  readonly name: string;
  readonly before: string;
  /**
   * The object the ref now points at. For an annotated tag this is the tag object, not the
   * commit: whoever fetches the ref peels it (`git rev-parse TAG^{commit}`).
   */
  readonly after: string;
  /** True when the push deleted the ref (`after` is all zeros). */
  readonly deleted: boolean;
  /** `owner/name` (GitHub, Gitea) or GitLab's `path_with_namespace`, as the payload names it. */
  readonly repository: string;
}

/** What a delivery turned out to be. */
export type DeliveryOutcome =
  | { readonly kind: 'push'; readonly event: PushEvent }
  | { readonly kind: 'ping' }
  | { readonly kind: 'ignored'; readonly reason: string }
  | { readonly kind: 'invalid'; readonly issues: readonly ConfigIssue[] };

/** The all-zero object id a forge sends as `after` when a ref is deleted. */
const ZERO_ID = /^0+$/;

const objectId = z
  .string()
  .regex(/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/, 'expected a git object id (40 or 64 lowercase hex digits)');

const ref = z.string().regex(/^refs\/\S+$/, 'expected a full ref such as refs/tags/v1.0.0');

/** A GitHub `push` payload; Gitea and Forgejo send the same shape (without `deleted`). */
const githubStylePush = z.object({
  ref,
  before: objectId,
  after: objectId,
  deleted: z.boolean().optional(),
  repository: z.object({ full_name: z.string().min(1) }),
});

/**
 * A GitLab `Push Hook` or `Tag Push Hook` payload. `checkout_sha` is not used: it is null
 * when a ref is deleted, and `after` is what the dedupe key and the fetch check compare.
 */
const gitlabPush = z.object({
  ref,
  before: objectId,
  after: objectId,
  project: z.object({ path_with_namespace: z.string().min(1) }),
});

/** The fields every forge's push shares, once validated. */
interface PushFields {
  readonly ref: string;
  readonly before: string;
  readonly after: string;
  readonly deleted: boolean;
  readonly repository: string;
}

function parsePush(forge: Forge, payload: unknown): PushFields | ConfigIssue[] {
  if (forge === 'gitlab') {
    const result = gitlabPush.safeParse(payload, { reportInput: true });
    if (!result.success) return toConfigIssues(result.error.issues);
    const { project, ...rest } = result.data;
    return { ...rest, deleted: ZERO_ID.test(rest.after), repository: project.path_with_namespace };
  }
  const result = githubStylePush.safeParse(payload, { reportInput: true });
  if (!result.success) return toConfigIssues(result.error.issues);
  const { repository, deleted, ...rest } = result.data;
  return { ...rest, deleted: deleted === true || ZERO_ID.test(rest.after), repository: repository.full_name };
}

/** True when `event` is the push event of `forge`. */
function isPushEvent(forge: Forge, event: string): boolean {
  return forge === 'gitlab' ? event === 'Push Hook' || event === 'Tag Push Hook' : event === 'push';
}

function missingHeader(names: readonly string[]): ConfigIssue {
  return {
    path: `header ${names.map(displayHeader).join(' or ')}`,
    message: 'is required (expected the value the forge sends)',
  };
}

/** The tag or branch a full ref names, or undefined for any other ref (notes, pull requests, …). */
export function refTarget(fullRef: string): { kind: 'tag' | 'branch'; name: string } | undefined {
  for (const [prefix, kind] of [
    ['refs/tags/', 'tag'],
    ['refs/heads/', 'branch'],
  ] as const) {
    if (fullRef.startsWith(prefix) && fullRef.length > prefix.length)
      return { kind, name: fullRef.slice(prefix.length) };
  }
  return undefined;
}

/**
 * Classifies a delivery whose signature has been verified and whose body parsed as JSON:
 * a push (normalised), a ping, an ignored event, or an invalid one with every issue found.
 * Deleted refs come back as pushes with `deleted: true`; the caller decides what to do.
 */
export function normaliseDelivery(
  forge: Forge,
  headers: IncomingHttpHeaders,
  payload: unknown,
): DeliveryOutcome {
  const names = FORGE_HEADERS[forge];
  const event = firstHeader(headers, names.event);
  if (event === undefined) return { kind: 'invalid', issues: [missingHeader(names.event)] };
  if (event === 'ping' && forge !== 'gitlab') return { kind: 'ping' };
  if (!isPushEvent(forge, event)) return { kind: 'ignored', reason: `event "${event}" is not a push` };
  const deliveryId = firstHeader(headers, names.delivery);
  const fields = parsePush(forge, payload);
  const issues = [
    ...(deliveryId === undefined ? [missingHeader(names.delivery)] : []),
    ...(Array.isArray(fields) ? fields : []),
  ];
  if (issues.length > 0 || deliveryId === undefined || Array.isArray(fields))
    return { kind: 'invalid', issues };
  const target = refTarget(fields.ref);
  if (target === undefined)
    return {
      kind: 'ignored',
      reason: `ref ${fields.ref} is neither a branch (refs/heads/) nor a tag (refs/tags/)`,
    };
  return { kind: 'push', event: { forge, deliveryId, event, ...fields, ...target } };
}
