import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { constantTimeEqual, giteaSignature, githubSignature, verifyDelivery } from './verify.js';

// GitHub's documented test vector ("Validating webhook deliveries").
const SECRET = "It's a Secret to Everybody";
const BODY = Buffer.from('Hello, World!');
const EXPECTED_HEX = '757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

/** `value` with its last character replaced by another hex digit. */
function oneOff(value: string): string {
  const last = value.at(-1);
  return value.slice(0, -1) + (last === '0' ? '1' : '0');
}

describe('GitHub X-Hub-Signature-256', () => {
  it("matches GitHub's documented test vector", () => {
    expect(githubSignature(SECRET, BODY)).toBe(`sha256=${EXPECTED_HEX}`);
    expect(verifyDelivery('github', { 'x-hub-signature-256': `sha256=${EXPECTED_HEX}` }, BODY, SECRET)).toBe(
      true,
    );
  });

  it('accepts the hex digits in upper case', () => {
    const header = `sha256=${EXPECTED_HEX.toUpperCase()}`;
    expect(verifyDelivery('github', { 'x-hub-signature-256': header }, BODY, SECRET)).toBe(true);
  });

  it.each([
    ['missing', {}],
    ['empty', { 'x-hub-signature-256': '' }],
    ['one hex digit off', { 'x-hub-signature-256': oneOff(`sha256=${EXPECTED_HEX}`) }],
    ['forged with another secret', { 'x-hub-signature-256': githubSignature('guess', BODY) }],
    ['without its sha256= prefix', { 'x-hub-signature-256': EXPECTED_HEX }],
    ['a SHA-1 signature', { 'x-hub-signature-256': `sha1=${EXPECTED_HEX.slice(0, 40)}` }],
    ['truncated', { 'x-hub-signature-256': `sha256=${EXPECTED_HEX.slice(0, 63)}` }],
  ])('rejects a signature %s', (_name, headers) => {
    expect(verifyDelivery('github', headers, BODY, SECRET)).toBe(false);
  });

  it('rejects the signature of a body changed by one byte', () => {
    const header = githubSignature(SECRET, BODY);
    const changed = Buffer.from(BODY);
    changed[0] = changed[0]! ^ 1;
    expect(verifyDelivery('github', { 'x-hub-signature-256': header }, changed, SECRET)).toBe(false);
  });

  it('rejects any single-bit change of any body (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 256 }),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (bytes, at, bit) => {
          const body = Buffer.from(bytes);
          const header = { 'x-hub-signature-256': githubSignature(SECRET, body) };
          expect(verifyDelivery('github', header, body, SECRET)).toBe(true);
          const changed = Buffer.from(body);
          const index = at % changed.length;
          changed[index] = changed[index]! ^ (1 << bit);
          expect(verifyDelivery('github', header, changed, SECRET)).toBe(false);
        },
      ),
    );
  });
});

describe('Gitea and Forgejo X-Gitea-Signature', () => {
  it('is the bare hex HMAC-SHA256 of the body', () => {
    expect(giteaSignature(SECRET, BODY)).toBe(EXPECTED_HEX);
    expect(verifyDelivery('gitea', { 'x-gitea-signature': EXPECTED_HEX }, BODY, SECRET)).toBe(true);
  });

  it.each([
    ['missing', {}],
    ['one hex digit off', { 'x-gitea-signature': oneOff(EXPECTED_HEX) }],
    ['with a sha256= prefix', { 'x-gitea-signature': `sha256=${EXPECTED_HEX}` }],
    ['forged with another secret', { 'x-gitea-signature': giteaSignature('guess', BODY) }],
    ["in GitHub's header instead", { 'x-hub-signature-256': `sha256=${EXPECTED_HEX}` }],
  ])('rejects a signature %s', (_name, headers) => {
    expect(verifyDelivery('gitea', headers, BODY, SECRET)).toBe(false);
  });
});

describe('GitLab X-Gitlab-Token', () => {
  it('accepts the secret itself, whatever the body', () => {
    expect(verifyDelivery('gitlab', { 'x-gitlab-token': SECRET }, BODY, SECRET)).toBe(true);
    expect(verifyDelivery('gitlab', { 'x-gitlab-token': SECRET }, Buffer.from('{}'), SECRET)).toBe(true);
  });

  it.each([
    ['missing', {}],
    ['empty', { 'x-gitlab-token': '' }],
    ['one character off', { 'x-gitlab-token': oneOff(SECRET) }],
    ['a prefix of the secret', { 'x-gitlab-token': SECRET.slice(0, -1) }],
    ['the secret and more', { 'x-gitlab-token': `${SECRET}x` }],
    ['in another case', { 'x-gitlab-token': SECRET.toUpperCase() }],
  ])('rejects a token %s', (_name, headers) => {
    expect(verifyDelivery('gitlab', headers, BODY, SECRET)).toBe(false);
  });
});

describe('constantTimeEqual', () => {
  it('compares values of any length, and never matches an empty one', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(false);
    expect(constantTimeEqual('', 'abc')).toBe(false);
  });
});
