/**
 * Authenticates a webhook delivery from its raw bytes, before anything parses them:
 * GitHub's `X-Hub-Signature-256` (`sha256=` and the hex HMAC-SHA256 of the body), Gitea's and
 * Forgejo's `X-Gitea-Signature` (the bare hex HMAC-SHA256) and GitLab's `X-Gitlab-Token` (the
 * secret itself). Every comparison takes the same time whatever the presented value.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { FORGE_HEADERS, firstHeader, type Forge } from './forge.js';

/** Hex HMAC-SHA256 of `body` keyed with `secret`. */
function hmacHex(secret: string, body: Uint8Array): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** The `X-Hub-Signature-256` value GitHub sends for `body`: `sha256=<hex HMAC-SHA256>`. */
export function githubSignature(secret: string, body: Uint8Array): string {
  return `sha256=${hmacHex(secret, body)}`;
}

/** The `X-Gitea-Signature` value Gitea and Forgejo send for `body`: the bare hex HMAC-SHA256. */
export function giteaSignature(secret: string, body: Uint8Array): string {
  return hmacHex(secret, body);
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * True when `presented` equals `expected`, compared in constant time. Both sides are hashed
 * first so `timingSafeEqual` always sees two 32-byte buffers: neither a length check nor the
 * position of the first differing byte shows in the timing. An empty `presented` never
 * matches (an unset secret must not accept an absent header).
 */
export function constantTimeEqual(presented: string, expected: string): boolean {
  const same = timingSafeEqual(sha256(presented), sha256(expected));
  return same && presented !== '' && expected !== '';
}

/**
 * The authentication value `forge` would send for `body` with `secret`: a signature for
 * GitHub and Gitea, the secret itself for GitLab.
 */
export function expectedAuthentication(forge: Forge, secret: string, body: Uint8Array): string {
  switch (forge) {
    case 'github':
      return githubSignature(secret, body);
    case 'gitea':
      return giteaSignature(secret, body);
    case 'gitlab':
      return secret;
  }
}

/**
 * True when the request's authentication header for `forge` matches `secret` and `body`.
 * Hex digests are compared case-insensitively (GitHub and Gitea send lowercase); a GitLab
 * token is compared exactly. A missing header is compared like any other value, so it costs
 * the same time and fails.
 * @param body the raw request bytes, exactly as received
 */
export function verifyDelivery(
  forge: Forge,
  headers: IncomingHttpHeaders,
  body: Uint8Array,
  secret: string,
): boolean {
  const presented = firstHeader(headers, [FORGE_HEADERS[forge].authentication]) ?? '';
  const expected = expectedAuthentication(forge, secret, body);
  return constantTimeEqual(forge === 'gitlab' ? presented : presented.toLowerCase(), expected);
}
