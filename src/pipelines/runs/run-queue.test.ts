import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTemporaryDir, removeTemporaryDir } from '../git/git-test-support.js';
import type { RunError } from './run-error.js';
import { RunQueue, type RunContext, type RunExecutor, type RunOutcome } from './run-queue.js';
import type { RunInput } from './run-record.js';
import { RunStore } from './run-store.js';

let dir: string;
let store: RunStore;

beforeEach(async () => {
  dir = await makeTemporaryDir('queue');
  store = await RunStore.open(dir);
});

afterEach(async () => {
  await removeTemporaryDir(dir);
});

/** An executor whose runs wait until the test releases them, recording the order they started in. */
function gatedExecutor() {
  const started: string[] = [];
  const gates = new Map<string, (outcome: RunOutcome) => void>();
  const waiters: (() => void)[] = [];
  const executor: RunExecutor = (context: RunContext) =>
    new Promise<RunOutcome>((resolve) => {
      started.push(context.run.ref);
      gates.set(context.run.ref, resolve);
      context.signal.addEventListener('abort', () => resolve({ state: 'failed', reason: 'aborted' }));
      waiters.splice(0).forEach((wake) => wake());
    });
  return {
    executor,
    started,
    async whenStarted(count: number): Promise<void> {
      while (started.length < count) await new Promise<void>((wake) => waiters.push(wake));
    },
    release(ref: string, outcome: RunOutcome = { state: 'succeeded' }): void {
      gates.get(ref)!(outcome);
    },
  };
}

const build = (tag: string, source = 'shop'): RunInput => ({
  pipeline: 'build',
  source,
  ref: `refs/tags/${tag}`,
});
const release = (n: number): RunInput => ({
  pipeline: 'release',
  source: 'deploy',
  ref: `refs/heads/main`,
  after: String(n).repeat(40),
});

describe('run queue', () => {
  it('runs one at a time by default, first in first out, and never skips a build', async () => {
    const gated = gatedExecutor();
    const queue = new RunQueue({ store, executors: { build: gated.executor } });
    await queue.start();
    const a = await queue.enqueue(build('v1'));
    const b = await queue.enqueue(build('v2'));
    await gated.whenStarted(1);
    expect(store.require(b.id).state).toBe('queued');
    gated.release('refs/tags/v1');
    await gated.whenStarted(2);
    gated.release('refs/tags/v2');
    await queue.idle();
    expect(gated.started).toEqual(['refs/tags/v1', 'refs/tags/v2']);
    expect([store.require(a.id).state, store.require(b.id).state]).toEqual(['succeeded', 'succeeded']);
  });

  it('runs different sources side by side up to the concurrency, one run per source', async () => {
    const gated = gatedExecutor();
    const queue = new RunQueue({ store, executors: { build: gated.executor }, concurrency: 2 });
    await queue.start();
    await queue.enqueue(build('v1', 'shop'));
    await queue.enqueue(build('v2', 'shop'));
    await queue.enqueue(build('w1', 'cart'));
    await gated.whenStarted(2);
    expect(gated.started).toEqual(['refs/tags/v1', 'refs/tags/w1']);
    gated.release('refs/tags/w1');
    gated.release('refs/tags/v1');
    await gated.whenStarted(3);
    gated.release('refs/tags/v2');
    await queue.idle();
  });

  it('skips older queued release runs of a source when a newer one is queued', async () => {
    const gated = gatedExecutor();
    const queue = new RunQueue({ store, executors: { release: gated.executor } });
    const first = await queue.enqueue(release(1));
    const second = await queue.enqueue(release(2));
    const third = await queue.enqueue(release(3));
    await queue.start();
    await gated.whenStarted(1);
    gated.release('refs/heads/main');
    await queue.idle();
    expect(store.require(first.id)).toMatchObject({ state: 'skipped', reason: `superseded by ${second.id}` });
    expect(store.require(second.id).state).toBe('skipped');
    expect(store.require(third.id).state).toBe('succeeded');
    expect(gated.started).toHaveLength(1);
  });

  it('cancels a queued run (skipped) and a running one (aborted, failed), both with reason cancelled', async () => {
    const gated = gatedExecutor();
    const queue = new RunQueue({ store, executors: { build: gated.executor } });
    await queue.start();
    const running = await queue.enqueue(build('v1'));
    const queued = await queue.enqueue(build('v2'));
    await gated.whenStarted(1);
    await expect(queue.cancel(queued.id)).resolves.toMatchObject({ state: 'skipped', reason: 'cancelled' });
    await expect(queue.cancel(running.id)).resolves.toMatchObject({ state: 'failed', reason: 'cancelled' });
    const error = (await queue.cancel(running.id).catch((e: unknown) => e)) as RunError;
    expect(error.code).toBe('AVIARY_RUN_WRONG_STATE');
    expect(gated.started).toEqual(['refs/tags/v1']);
  });

  it('interrupts the running run when closed with abort, and the next start re-queues it once', async () => {
    const gated = gatedExecutor();
    const queue = new RunQueue({ store, executors: { build: gated.executor } });
    await queue.start();
    const running = await queue.enqueue(build('v1'));
    await gated.whenStarted(1);
    await queue.close({ abort: true });
    expect(store.require(running.id)).toMatchObject({
      state: 'interrupted',
      reason: 'Aviary stopped while it ran',
    });
    const reopened = await RunStore.open(dir, { killLeftovers: () => Promise.resolve() });
    const next = gatedExecutor();
    const requeued = await new RunQueue({ store: reopened, executors: { build: next.executor } }).start();
    expect(requeued).toEqual([expect.objectContaining({ requeuedFrom: running.id, attempt: 2 })]);
    await next.whenStarted(1);
    next.release('refs/tags/v1');
    await expect(reopened.finished(requeued[0]!.id)).resolves.toMatchObject({ state: 'succeeded' });
  });

  it('reruns a run with the same inputs as a new run', async () => {
    const queue = new RunQueue({
      store,
      executors: { build: () => Promise.resolve({ state: 'failed', reason: 'no' }) },
    });
    await queue.start();
    const first = await queue.enqueue({ ...build('v1'), after: 'b'.repeat(40), deliveryId: 'd-9' });
    await store.finished(first.id);
    const again = await queue.rerun(first.id);
    expect(again).toMatchObject({
      ref: 'refs/tags/v1',
      after: 'b'.repeat(40),
      rerunOf: first.id,
      attempt: 1,
    });
    expect(again.id).not.toBe(first.id);
    await expect(store.finished(again.id)).resolves.toMatchObject({ state: 'failed', reason: 'no' });
  });

  it('fails a run whose executor throws, or whose pipeline has none, and logs how it ended', async () => {
    const queue = new RunQueue({
      store,
      executors: {
        build: () => Promise.reject(new Error('boom')),
      },
    });
    await queue.start();
    const thrown = await queue.enqueue(build('v1'));
    const orphan = await queue.enqueue(release(1));
    await queue.idle();
    expect(store.require(thrown.id)).toMatchObject({ state: 'failed', reason: 'boom' });
    expect(store.require(orphan.id)).toMatchObject({
      state: 'failed',
      reason: 'no executor for the release pipeline',
    });
  });

  it('runs the queued runs a previous process left, in order, once started', async () => {
    const first = await store.create(build('v1'));
    const second = await store.create(build('v2'));
    const reopened = await RunStore.open(dir);
    const order: string[] = [];
    const queue = new RunQueue({
      store: reopened,
      executors: {
        build: ({ run }) => {
          order.push(run.id);
          return Promise.resolve({ state: 'succeeded' });
        },
      },
    });
    expect(await queue.start()).toEqual([]);
    await queue.idle();
    expect(order).toEqual([first.id, second.id]);
  });

  it('refuses a concurrency that is not a positive integer, naming it', () => {
    expect(() => new RunQueue({ store, executors: {}, concurrency: 0 })).toThrow(/^concurrency: /);
  });
});
