import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startWebhookReceiver } from './receiver.js';
import {
  deliver,
  forgeHeaders,
  githubPush,
  gitlabPush,
  post,
  SOURCES,
  startTestReceiver,
  TAG_COMMIT,
  ZERO,
  type TestReceiver,
} from './test-support.js';

let hooks: TestReceiver;

beforeEach(async () => {
  hooks = await startTestReceiver();
});

afterEach(async () => {
  await hooks.dispose();
});

const tagPush = githubPush('refs/tags/v2.0.0', TAG_COMMIT, 'acme/catalogdetail');

describe('webhook receiver: accepted pushes', () => {
  it('answers 202 with the run id for a signed GitHub tag push, and records it first', async () => {
    const answer = await deliver(hooks.url, 'github', tagPush, {
      secret: 'app-secret',
      event: 'push',
      deliveryId: 'd-1',
    });
    expect(answer).toEqual({ status: 202, body: { status: 'accepted', runId: 'run-1' } });
    expect(
      hooks.calls.map(({ event, source }) => [source.name, event.kind, event.name, event.after]),
    ).toEqual([['app', 'tag', 'v2.0.0', TAG_COMMIT]]);
    const recorded = await import('node:fs/promises').then((fs) => fs.readFile(hooks.dedupeFile, 'utf8'));
    expect(JSON.parse(recorded).keys).toEqual([
      'github\u0000d-1',
      `app\u0000refs/tags/v2.0.0\u0000${TAG_COMMIT}`,
    ]);
  });

  it('finds the source among several on one endpoint by the secret that verifies', async () => {
    const push = githubPush('refs/heads/main', TAG_COMMIT, 'acme/deploy');
    const answer = await deliver(hooks.url, 'github', push, { secret: 'deploy-secret', event: 'push' });
    expect(answer.status).toBe(202);
    expect(hooks.calls.map((call) => call.source.name)).toEqual(['deploy']);
  });

  it('accepts Gitea and GitLab pushes on their own routes', async () => {
    const gitea = await deliver(hooks.url, 'gitea', tagPush, { secret: 'gitea-secret', event: 'push' });
    const gitlab = await deliver(
      hooks.url,
      'gitlab',
      gitlabPush('refs/tags/v2.0.0', TAG_COMMIT, 'group/sub/catalogdetail'),
      {
        secret: 'gitlab-token',
        event: 'Tag Push Hook',
      },
    );
    expect([gitea.status, gitlab.status]).toEqual([202, 202]);
    expect(hooks.calls.map((call) => [call.source.name, call.event.forge])).toEqual([
      ['mirror', 'gitea'],
      ['lab', 'gitlab'],
    ]);
  });
});

describe('webhook receiver: authentication and trust', () => {
  it.each([
    ['missing', undefined],
    ['made with a wrong secret', 'not-the-secret'],
  ])('answers 401 to a signature %s, and starts no run', async (_name, secret) => {
    const answer = await deliver(hooks.url, 'github', tagPush, { secret, event: 'push' });
    expect(answer.status).toBe(401);
    expect(answer.body.error).toMatchObject({
      code: 'AVIARY_UNAUTHORIZED',
      message: expect.stringContaining('X-Hub-Signature-256'),
    });
    expect(hooks.calls).toEqual([]);
  });

  it('answers 401 to a signature one hex digit off', async () => {
    const body = JSON.stringify(tagPush);
    const headers = forgeHeaders('github', body, 'app-secret', 'push');
    const signature = headers['x-hub-signature-256']!;
    headers['x-hub-signature-256'] = signature.slice(0, -1) + (signature.endsWith('0') ? '1' : '0');
    expect((await post(hooks.url, '/hooks/github', body, headers)).status).toBe(401);
    expect(hooks.calls).toEqual([]);
  });

  it("answers 401 to GitLab's token sent to GitHub's route", async () => {
    const body = JSON.stringify(tagPush);
    const headers = { ...forgeHeaders('github', body, undefined, 'push'), 'x-gitlab-token': 'app-secret' };
    expect((await post(hooks.url, '/hooks/github', body, headers)).status).toBe(401);
  });

  it('checks the signature before parsing: malformed JSON unsigned is 401, signed is 400', async () => {
    const body = '{"ref": "refs/tags/v2.0.0",';
    const unsigned = await post(
      hooks.url,
      '/hooks/github',
      body,
      forgeHeaders('github', body, 'guess', 'push'),
    );
    const signed = await post(
      hooks.url,
      '/hooks/github',
      body,
      forgeHeaders('github', body, 'app-secret', 'push'),
    );
    expect([unsigned.status, signed.status]).toEqual([401, 400]);
    expect(signed.body.error).toMatchObject({
      code: 'AVIARY_BAD_REQUEST',
      message: expect.stringContaining('expected a JSON body'),
    });
    expect(hooks.calls).toEqual([]);
  });

  it("answers 403 when a signed payload names another repository than the secret's source, and starts no run", async () => {
    const foreign = githubPush('refs/tags/v2.0.0', TAG_COMMIT, 'mallory/catalogdetail');
    const answer = await deliver(hooks.url, 'github', foreign, { secret: 'app-secret', event: 'push' });
    expect(answer.status).toBe(403);
    expect(answer.body.error.message).toContain('expected "acme/catalogdetail"');
    const crossed = githubPush('refs/tags/v2.0.0', TAG_COMMIT, 'acme/catalogdetail');
    expect(
      (await deliver(hooks.url, 'github', crossed, { secret: 'deploy-secret', event: 'push' })).status,
    ).toBe(403);
    expect(hooks.calls).toEqual([]);
  });

  it('names the invalid fields of a signed payload with 400', async () => {
    const answer = await deliver(
      hooks.url,
      'github',
      { ref: 'refs/tags/v2', before: ZERO, after: 'HEAD' },
      { secret: 'app-secret', event: 'push' },
    );
    expect(answer.status).toBe(400);
    expect(answer.body.error.issues.map((issue: { path: string }) => issue.path)).toEqual([
      'after',
      'repository',
    ]);
  });
});

describe('webhook receiver: limits', () => {
  const big = Buffer.alloc(2 * 1024 * 1024, 0x20);

  it('answers 413 to a body over the limit with a Content-Length', async () => {
    const res = await fetch(`${hooks.url}/hooks/github`, {
      method: 'POST',
      body: big,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({
      error: { code: 'AVIARY_BODY_TOO_LARGE', message: expect.stringContaining('1048576 bytes') },
    });
  });

  it('answers 413 to a chunked body without Content-Length, and then serves the next delivery', async () => {
    function* chunked(): Generator<Buffer> {
      for (let at = 0; at < big.length; at += 64 * 1024) yield big.subarray(at, at + 64 * 1024);
    }
    const answer = await post(hooks.url, '/hooks/github', chunked(), { 'content-type': 'application/json' });
    expect(answer.status).toBe(413);
    const next = await deliver(hooks.url, 'github', tagPush, { secret: 'app-secret', event: 'push' });
    expect(next.status).toBe(202);
  });

  it('stops reading a chunked body that never ends', async () => {
    let sent = 0;
    function* endless(): Generator<Buffer> {
      for (;;) {
        sent += 64 * 1024;
        yield Buffer.alloc(64 * 1024, 0x20);
      }
    }
    const res = await request(`${hooks.url}/hooks/github`, {
      method: 'POST',
      body: Readable.from(endless()),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(413);
    await res.body.dump();
    expect(sent).toBeGreaterThan(1024 * 1024);
    const next = await deliver(hooks.url, 'github', { zen: 'hi' }, { secret: 'app-secret', event: 'ping' });
    expect(next).toEqual({ status: 200, body: { status: 'pong' } });
  });

  it('applies maxBodyBytes', async () => {
    const small = await startTestReceiver({ maxBodyBytes: 64 });
    try {
      const answer = await deliver(small.url, 'github', tagPush, { secret: 'app-secret', event: 'push' });
      expect(answer).toMatchObject({
        status: 413,
        body: { error: { message: expect.stringContaining('64 bytes') } },
      });
    } finally {
      await small.dispose();
    }
  });

  it('answers 415 to a form-encoded body', async () => {
    const body = `payload=${encodeURIComponent(JSON.stringify(tagPush))}`;
    const headers = {
      ...forgeHeaders('github', body, 'app-secret', 'push'),
      'content-type': 'application/x-www-form-urlencoded',
    };
    const answer = await post(hooks.url, '/hooks/github', body, headers);
    expect(answer.status).toBe(415);
    expect(answer.body.error.message).toContain('expected Content-Type application/json');
    expect(hooks.calls).toEqual([]);
  });

  it('answers 404 to an unknown route and 405 to another method', async () => {
    expect(
      (await post(hooks.url, '/hooks/bitbucket', '{}', { 'content-type': 'application/json' })).status,
    ).toBe(404);
    const res = await request(`${hooks.url}/hooks/github`);
    expect([res.statusCode, res.headers.allow]).toEqual([405, 'POST']);
    await res.body.dump();
  });
});

describe('webhook receiver: events that start nothing', () => {
  it('answers a ping with 200', async () => {
    const answer = await deliver(
      hooks.url,
      'github',
      { zen: 'Design for failure.', hook_id: 1 },
      { secret: 'app-secret', event: 'ping' },
    );
    expect(answer).toEqual({ status: 200, body: { status: 'pong' } });
  });

  it("ignores GitHub's create event of a tag push", async () => {
    const create = {
      ref: 'v2.0.0',
      ref_type: 'tag',
      master_branch: 'main',
      repository: { full_name: 'acme/catalogdetail' },
    };
    const answer = await deliver(hooks.url, 'github', create, { secret: 'app-secret', event: 'create' });
    expect(answer).toEqual({
      status: 200,
      body: { status: 'ignored', reason: 'event "create" is not a push' },
    });
    expect(hooks.calls).toEqual([]);
  });

  it('ignores a deleted tag', async () => {
    const deletion = githubPush('refs/tags/v2.0.0', ZERO, 'acme/catalogdetail');
    const answer = await deliver(hooks.url, 'github', deletion, { secret: 'app-secret', event: 'push' });
    expect(answer).toEqual({
      status: 200,
      body: { status: 'ignored', reason: 'refs/tags/v2.0.0 was deleted' },
    });
    expect(hooks.calls).toEqual([]);
  });
});

describe('startWebhookReceiver options', () => {
  it('names the bad option', async () => {
    const bad = [
      { ...SOURCES[0]!, repository: 'no-slash' },
      { ...SOURCES[0]!, secret: '' },
    ];
    await expect(
      startWebhookReceiver({
        sources: bad,
        port: 0,
        dedupeFile: '/nonexistent/x',
        onPush: () => Promise.resolve({ ignored: 'x' }),
      }),
    ).rejects.toMatchObject({
      code: 'AVIARY_CONFIG_INVALID',
      message: expect.stringMatching(
        /sources\[0\]\.repository: expected owner\/name[\s\S]*sources\[1\]\.secret[\s\S]*sources\[1\]\.name: duplicate name "app"/,
      ),
    });
  });
});
