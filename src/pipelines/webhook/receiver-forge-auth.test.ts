/**
 * Each forge's authentication over real loopback HTTP (issue 14, "signatures"): a delivery
 * that is unsigned, signed with another secret, or whose signature or token is one character
 * off gets 401 naming the forge's header, and `onPush` is never called. The correctly signed
 * delivery of the same payload is the control: 202.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Forge } from './forge.js';
import {
  forgeHeaders,
  githubPush,
  gitlabPush,
  post,
  startTestReceiver,
  TAG_COMMIT,
  type TestReceiver,
} from './test-support.js';

let hooks: TestReceiver;

beforeEach(async () => {
  hooks = await startTestReceiver();
});

afterEach(async () => {
  await hooks.dispose();
});

/** Per forge: its configured secret (test-support's SOURCES), a push event, a payload and the header checked. */
const FORGES: Record<Forge, { secret: string; event: string; payload: object; header: string }> = {
  github: {
    secret: 'app-secret',
    event: 'push',
    payload: githubPush('refs/tags/v2.0.0', TAG_COMMIT, 'acme/catalogdetail'),
    header: 'x-hub-signature-256',
  },
  gitea: {
    secret: 'gitea-secret',
    event: 'push',
    payload: githubPush('refs/tags/v2.0.0', TAG_COMMIT, 'acme/catalogdetail'),
    header: 'x-gitea-signature',
  },
  gitlab: {
    secret: 'gitlab-token',
    event: 'Tag Push Hook',
    payload: gitlabPush('refs/tags/v2.0.0', TAG_COMMIT, 'group/sub/catalogdetail'),
    header: 'x-gitlab-token',
  },
};

/** `value` with its last character replaced by another (a hex digit stays a hex digit). */
function oneOff(value: string): string {
  return value.slice(0, -1) + (value.endsWith('0') ? '1' : '0');
}

/** The headers of a delivery of `forge`'s payload signed with `secret`, then changed by `change`. */
function headersOf(
  forge: Forge,
  body: string,
  secret: string | undefined,
  change: (headers: Record<string, string>) => void = () => undefined,
): Record<string, string> {
  const headers = forgeHeaders(forge, body, secret, FORGES[forge].event);
  change(headers);
  return headers;
}

describe.each(Object.keys(FORGES) as Forge[])('%s authentication over HTTP', (forge) => {
  const { secret, payload, header } = FORGES[forge];
  const body = JSON.stringify(payload);

  it.each([
    ['unsigned', () => headersOf(forge, body, undefined)],
    ['signed with another secret', () => headersOf(forge, body, 'not-the-secret')],
    [
      'one character off',
      () => headersOf(forge, body, secret, (headers) => (headers[header] = oneOff(headers[header]!))),
    ],
  ])('answers 401 to a delivery %s, naming the header, and starts no run', async (_name, headers) => {
    const answer = await post(hooks.url, `/hooks/${forge}`, body, headers());
    expect(answer.status).toBe(401);
    expect(answer.body.error).toMatchObject({ code: 'AVIARY_UNAUTHORIZED' });
    expect(answer.body.error.message.toLowerCase()).toContain(header);
    expect(hooks.calls).toEqual([]);
  });

  it('accepts the same payload correctly signed', async () => {
    const answer = await post(hooks.url, `/hooks/${forge}`, body, headersOf(forge, body, secret));
    expect(answer.status).toBe(202);
    expect(hooks.calls).toHaveLength(1);
  });
});
