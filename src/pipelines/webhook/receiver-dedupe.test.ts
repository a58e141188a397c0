import { afterEach, describe, expect, it } from 'vitest';
import { nodeStateFileSystem, type StateFileSystem } from '../../rollout/state/state-files.js';
import type { PushDecision } from './receiver-options.js';
import { deliver, githubPush, startTestReceiver, TAG_COMMIT, type TestReceiver } from './test-support.js';

const OTHER_COMMIT = 'b'.repeat(40);
const tagPush = githubPush('refs/tags/v2.0.0', TAG_COMMIT, 'acme/catalogdetail');
const signed = { secret: 'app-secret', event: 'push' };

const started: TestReceiver[] = [];

async function receiver(options: Parameters<typeof startTestReceiver>[0] = {}): Promise<TestReceiver> {
  const hooks = await startTestReceiver(options);
  started.push(hooks);
  return hooks;
}

afterEach(async () => {
  for (const hooks of started.splice(0)) await hooks.dispose();
});

describe('webhook receiver: duplicates', () => {
  it('answers 200 duplicate to a replayed delivery id and starts one run', async () => {
    const hooks = await receiver();
    const first = await deliver(hooks.url, 'github', tagPush, { ...signed, deliveryId: 'd-1' });
    const replay = await deliver(hooks.url, 'github', tagPush, { ...signed, deliveryId: 'd-1' });
    expect(first.status).toBe(202);
    expect(replay).toEqual({
      status: 200,
      body: { status: 'duplicate', reason: 'delivery d-1 was received before' },
    });
    expect(hooks.calls).toHaveLength(1);
  });

  it('answers 200 duplicate to the same source, ref and after under a new delivery id', async () => {
    const hooks = await receiver();
    await deliver(hooks.url, 'github', tagPush, { ...signed, deliveryId: 'd-1' });
    const again = await deliver(hooks.url, 'github', tagPush, { ...signed, deliveryId: 'd-2' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({
      status: 'duplicate',
      reason: expect.stringContaining('under another delivery id'),
    });
    expect(hooks.calls).toHaveLength(1);
  });

  it('accepts the same ref at another commit, and the same commit under another source', async () => {
    const hooks = await receiver();
    await deliver(hooks.url, 'github', tagPush, signed);
    const moved = await deliver(
      hooks.url,
      'github',
      githubPush('refs/tags/v2.0.0', OTHER_COMMIT, 'acme/catalogdetail'),
      signed,
    );
    const mirrored = await deliver(hooks.url, 'gitea', tagPush, { secret: 'gitea-secret', event: 'push' });
    expect([moved.status, mirrored.status]).toEqual([202, 202]);
    expect(hooks.calls).toHaveLength(3);
  });

  it('still catches both kinds of duplicate after a restart on the same dedupe file', async () => {
    const before = await receiver();
    expect((await deliver(before.url, 'github', tagPush, { ...signed, deliveryId: 'd-1' })).status).toBe(202);
    const after = await before.restart();
    started.push(after);
    const replay = await deliver(after.url, 'github', tagPush, { ...signed, deliveryId: 'd-1' });
    const renamed = await deliver(after.url, 'github', tagPush, { ...signed, deliveryId: 'd-2' });
    expect([replay.body.status, renamed.body.status]).toEqual(['duplicate', 'duplicate']);
    expect(after.calls).toEqual([]);
  });

  it('lets one of two concurrent copies of a delivery through', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const hooks = await receiver({ decide: async () => (await gate, { runId: 'run-only' }) });
    const first = deliver(hooks.url, 'github', tagPush, { ...signed, deliveryId: 'd-1' });
    while (hooks.calls.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const copy = await deliver(hooks.url, 'github', tagPush, { ...signed, deliveryId: 'd-1' });
    open();
    expect(copy.body.status).toBe('duplicate');
    expect((await first).body).toEqual({ status: 'accepted', runId: 'run-only' });
    expect(hooks.calls).toHaveLength(1);
  });
});

describe("webhook receiver: the caller's decision", () => {
  it('answers 200 ignored when onPush ignores the push, and asks again on redelivery', async () => {
    const decisions: PushDecision[] = [
      { ignored: 'no pipeline builds tags of acme/catalogdetail' },
      { runId: 'run-7' },
    ];
    const hooks = await receiver({ decide: () => Promise.resolve(decisions.shift()!) });
    const ignored = await deliver(hooks.url, 'github', tagPush, { ...signed, deliveryId: 'd-1' });
    expect(ignored).toEqual({
      status: 200,
      body: { status: 'ignored', reason: 'no pipeline builds tags of acme/catalogdetail' },
    });
    const redelivered = await deliver(hooks.url, 'github', tagPush, { ...signed, deliveryId: 'd-1' });
    expect(redelivered).toEqual({ status: 202, body: { status: 'accepted', runId: 'run-7' } });
  });

  it('answers 500 when onPush fails, records nothing, and accepts the redelivery', async () => {
    let fail = true;
    const hooks = await receiver({
      decide: () => (fail ? Promise.reject(new Error('queue is full')) : Promise.resolve({ runId: 'run-2' })),
    });
    const failed = await deliver(hooks.url, 'github', tagPush, { ...signed, deliveryId: 'd-1' });
    expect(failed.status).toBe(500);
    expect(failed.body.error).toMatchObject({
      code: 'AVIARY_INTERNAL',
      message: expect.not.stringContaining('queue is full'),
    });
    expect(hooks.errors).toEqual(['onPush failed for delivery d-1']);
    fail = false;
    expect((await deliver(hooks.url, 'github', tagPush, { ...signed, deliveryId: 'd-1' })).status).toBe(202);
  });
});

describe('webhook receiver: the durable record', () => {
  it('never answers 202 before the record is written: a failed write answers 500 and still holds the keys', async () => {
    const failing: StateFileSystem = {
      ...nodeStateFileSystem,
      append: () => Promise.reject(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' })),
    };
    const hooks = await receiver({ dedupeFileSystem: failing });
    const answer = await deliver(hooks.url, 'github', tagPush, { ...signed, deliveryId: 'd-1' });
    expect(answer.status).toBe(500);
    expect(answer.body.error.message).toContain(
      'run run-1 was queued, but the delivery could not be recorded',
    );
    expect(hooks.errors).toEqual(['recording delivery d-1 failed']);
    const copy = await deliver(hooks.url, 'github', tagPush, { ...signed, deliveryId: 'd-1' });
    expect(copy.body.status).toBe('duplicate');
    expect(hooks.calls).toHaveLength(1);
  });
});
