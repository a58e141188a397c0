/**
 * The forges a webhook can come from, and the headers each one uses for its event name, its
 * delivery id and its authentication. Facts: GitHub's, Gitea's and GitLab's webhook
 * documentation (summarised in REFERENCE.md §6).
 */
import type { IncomingHttpHeaders } from 'node:http';

/** A forge whose webhooks the receiver understands. */
export type Forge = 'github' | 'gitea' | 'gitlab';

/** Every {@link Forge}, in the order of the receiver's routes. */
export const FORGES: readonly Forge[] = ['github', 'gitea', 'gitlab'];

/** The request headers a forge sends, lowercase as Node exposes them; the first present wins. */
export interface ForgeHeaders {
  /** The event name, e.g. `push` or GitLab's `Tag Push Hook`. */
  readonly event: readonly string[];
  /** The delivery id, stable across the forge's own redeliveries. */
  readonly delivery: readonly string[];
  /** The header that authenticates the body. */
  readonly authentication: string;
}

/**
 * Header names per forge. Forgejo sends `X-Forgejo-*` and, for compatibility, the Gitea
 * names, so both are read. GitLab's `Idempotency-Key` is stable across its retries; older
 * GitLab versions only send `X-Gitlab-Event-UUID`.
 */
export const FORGE_HEADERS: Readonly<Record<Forge, ForgeHeaders>> = {
  github: {
    event: ['x-github-event'],
    delivery: ['x-github-delivery'],
    authentication: 'x-hub-signature-256',
  },
  gitea: {
    event: ['x-gitea-event', 'x-forgejo-event'],
    delivery: ['x-gitea-delivery', 'x-forgejo-delivery'],
    authentication: 'x-gitea-signature',
  },
  gitlab: {
    event: ['x-gitlab-event'],
    delivery: ['idempotency-key', 'x-gitlab-event-uuid'],
    authentication: 'x-gitlab-token',
  },
};

/** The value of the first of `names` present in `headers` (a repeated header's first value). */
export function firstHeader(headers: IncomingHttpHeaders, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = headers[name];
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined && first !== '') return first;
  }
  return undefined;
}

/** How a header is written in documentation and error messages: `x-hub-signature-256` → `X-Hub-Signature-256`. */
export function displayHeader(name: string): string {
  return name
    .split('-')
    .map((part) => (part === 'github' ? 'GitHub' : part.charAt(0).toUpperCase() + part.slice(1)))
    .join('-');
}
