import { describe, expect, it } from 'vitest';
import { normaliseDelivery, refTarget } from './push-event.js';
import { githubPush, gitlabPush, TAG_COMMIT, ZERO } from './test-support.js';

const ID = '72d3162e-cc78-11e3-81ab-4c9367dc0958';

describe('normaliseDelivery: GitHub', () => {
  const headers = { 'x-github-event': 'push', 'x-github-delivery': ID };

  it('turns a tag push into a PushEvent', () => {
    const outcome = normaliseDelivery(
      'github',
      headers,
      githubPush('refs/tags/v2.0.0', TAG_COMMIT, 'acme/catalogdetail'),
    );
    expect(outcome).toEqual({
      kind: 'push',
      event: {
        forge: 'github',
        deliveryId: ID,
        event: 'push',
        ref: 'refs/tags/v2.0.0',
        kind: 'tag',
        name: 'v2.0.0',
        before: ZERO,
        after: TAG_COMMIT,
        deleted: false,
        repository: 'acme/catalogdetail',
      },
    });
  });

  it('names a branch with slashes', () => {
    const outcome = normaliseDelivery(
      'github',
      headers,
      githubPush('refs/heads/release/1.x', TAG_COMMIT, 'a/b'),
    );
    expect(outcome).toMatchObject({ kind: 'push', event: { kind: 'branch', name: 'release/1.x' } });
  });

  it('marks a deleted ref', () => {
    const outcome = normaliseDelivery('github', headers, githubPush('refs/tags/v1', ZERO, 'a/b'));
    expect(outcome).toMatchObject({ kind: 'push', event: { deleted: true } });
  });

  it('recognises ping', () => {
    expect(normaliseDelivery('github', { 'x-github-event': 'ping' }, { zen: 'Keep it simple.' })).toEqual({
      kind: 'ping',
    });
  });

  it.each(['create', 'delete', 'release', 'pull_request'])('ignores the %s event', (event) => {
    const outcome = normaliseDelivery(
      'github',
      { ...headers, 'x-github-event': event },
      { ref: 'v2.0.0', ref_type: 'tag' },
    );
    expect(outcome).toEqual({ kind: 'ignored', reason: `event "${event}" is not a push` });
  });

  it('ignores a ref that is neither a branch nor a tag', () => {
    const outcome = normaliseDelivery('github', headers, githubPush('refs/notes/commits', TAG_COMMIT, 'a/b'));
    expect(outcome).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('refs/notes/commits') });
  });

  it('names every bad field by its path', () => {
    const payload = { ref: 'v2.0.0', before: ZERO, after: 'HEAD', repository: {} };
    const outcome = normaliseDelivery('github', headers, payload);
    expect(outcome.kind === 'invalid' ? outcome.issues.map((issue) => issue.path) : outcome).toEqual([
      'ref',
      'after',
      'repository.full_name',
    ]);
  });

  it('refuses a body that is not an object', () => {
    const outcome = normaliseDelivery('github', headers, ['not', 'a', 'push']);
    expect(outcome).toEqual({
      kind: 'invalid',
      issues: [{ path: '', message: 'expected an object, got a list' }],
    });
  });

  it('requires the event and delivery headers', () => {
    expect(normaliseDelivery('github', {}, {})).toEqual({
      kind: 'invalid',
      issues: [{ path: 'header X-GitHub-Event', message: expect.stringContaining('is required') }],
    });
    const outcome = normaliseDelivery(
      'github',
      { 'x-github-event': 'push' },
      githubPush('refs/tags/v1', TAG_COMMIT, 'a/b'),
    );
    expect(outcome).toMatchObject({ kind: 'invalid', issues: [{ path: 'header X-GitHub-Delivery' }] });
  });
});

describe('normaliseDelivery: Gitea and Forgejo', () => {
  it('turns a push into a PushEvent, deletion read from the zero id', () => {
    const headers = { 'x-gitea-event': 'push', 'x-gitea-delivery': ID };
    const { deleted: _deleted, ...payload } = githubPush(
      'refs/tags/v2.0.0',
      TAG_COMMIT,
      'acme/app',
    ) as Record<string, unknown>;
    expect(normaliseDelivery('gitea', headers, payload)).toMatchObject({
      kind: 'push',
      event: {
        forge: 'gitea',
        deliveryId: ID,
        kind: 'tag',
        name: 'v2.0.0',
        deleted: false,
        repository: 'acme/app',
      },
    });
    const deletion = { ...payload, after: ZERO };
    expect(normaliseDelivery('gitea', headers, deletion)).toMatchObject({ event: { deleted: true } });
  });

  it("reads Forgejo's own headers", () => {
    const headers = { 'x-forgejo-event': 'push', 'x-forgejo-delivery': ID };
    expect(
      normaliseDelivery('gitea', headers, githubPush('refs/heads/main', TAG_COMMIT, 'a/b')),
    ).toMatchObject({
      event: { deliveryId: ID, kind: 'branch', name: 'main' },
    });
  });

  it('ignores create', () => {
    const outcome = normaliseDelivery('gitea', { 'x-gitea-event': 'create', 'x-gitea-delivery': ID }, {});
    expect(outcome.kind).toBe('ignored');
  });
});

describe('normaliseDelivery: GitLab', () => {
  it('turns a Tag Push Hook into a PushEvent named by path_with_namespace', () => {
    const headers = { 'x-gitlab-event': 'Tag Push Hook', 'idempotency-key': ID };
    expect(
      normaliseDelivery('gitlab', headers, gitlabPush('refs/tags/v2.0.0', TAG_COMMIT, 'group/sub/app')),
    ).toEqual({
      kind: 'push',
      event: {
        forge: 'gitlab',
        deliveryId: ID,
        event: 'Tag Push Hook',
        ref: 'refs/tags/v2.0.0',
        kind: 'tag',
        name: 'v2.0.0',
        before: ZERO,
        after: TAG_COMMIT,
        deleted: false,
        repository: 'group/sub/app',
      },
    });
  });

  it('takes the delivery id from X-Gitlab-Event-UUID when Idempotency-Key is absent', () => {
    const headers = { 'x-gitlab-event': 'Push Hook', 'x-gitlab-event-uuid': 'uuid-1' };
    expect(
      normaliseDelivery('gitlab', headers, gitlabPush('refs/heads/main', TAG_COMMIT, 'g/app')),
    ).toMatchObject({
      event: { deliveryId: 'uuid-1', kind: 'branch', name: 'main' },
    });
  });

  it('marks a deleted tag (after all zeros, checkout_sha null)', () => {
    const headers = { 'x-gitlab-event': 'Tag Push Hook', 'idempotency-key': ID };
    expect(normaliseDelivery('gitlab', headers, gitlabPush('refs/tags/v1', ZERO, 'g/app'))).toMatchObject({
      event: { deleted: true },
    });
  });

  it('ignores other hooks, and has no ping', () => {
    for (const event of ['Merge Request Hook', 'ping'])
      expect(normaliseDelivery('gitlab', { 'x-gitlab-event': event }, {}).kind).toBe('ignored');
  });

  it('names a missing project path', () => {
    const headers = { 'x-gitlab-event': 'Push Hook', 'idempotency-key': ID };
    const outcome = normaliseDelivery('gitlab', headers, {
      ref: 'refs/heads/main',
      before: ZERO,
      after: TAG_COMMIT,
    });
    expect(outcome).toMatchObject({ kind: 'invalid', issues: [{ path: 'project' }] });
  });
});

describe('refTarget', () => {
  it('splits tags and branches and refuses bare prefixes', () => {
    expect(refTarget('refs/tags/v1')).toEqual({ kind: 'tag', name: 'v1' });
    expect(refTarget('refs/heads/main')).toEqual({ kind: 'branch', name: 'main' });
    expect(refTarget('refs/tags/')).toBeUndefined();
    expect(refTarget('refs/pull/1/head')).toBeUndefined();
  });
});
