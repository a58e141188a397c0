import { describe, expect, it } from 'vitest';
import type { KubeApi } from '../kubernetes/kube-api.js';
import type { RolloutEventRecord } from '../rollout/controller/action-executor.js';
import type { PersistedRollout } from '../rollout/controller/app-record.js';
import { CanaryStatusStore } from './canary-status-store.js';

/** The two writes the store makes, recorded: status patches and Event applies. */
function recordingApi() {
  const writes: string[] = [];
  const api = {
    patchStatus: (path: string) => {
      writes.push(`status ${path.split('/').at(-1)}`);
      return Promise.resolve();
    },
    // The API server's copy: its schema prunes nulls.
    list: () =>
      Promise.resolve([
        { metadata: { name: 'podinfo' }, status: { aviary: { state: { revision: 'r1' }, events: [] } } },
      ]),
    apply: (object: { kind?: string; reason?: string }) => {
      writes.push(`${object.kind} ${object.reason}`);
      return Promise.resolve(object);
    },
  };
  return { api: api as unknown as KubeApi, writes };
}

const event = (at: number, reason: string, message: string): RolloutEventRecord => ({
  at,
  app: 'podinfo',
  reason,
  message,
  severity: 'warning',
  phase: 'Progressing',
  canaryWeight: 10,
});

describe('Canary status writes', () => {
  it('an event repeating the one before it (same reason and message) is neither an Event nor a status write', async () => {
    const { api, writes } = recordingApi();
    const store = new CanaryStatusStore({
      api,
      namespace: 'shop',
      canaryOf: () => ({ metadata: { name: 'podinfo', uid: 'u1' } }),
    });
    const state = { revision: 'r1' } as unknown as PersistedRollout;
    await store.save('podinfo', state, [event(1, 'NotReady', 'Halt podinfo advancement: canary 0/1 ready')]);
    await store.save('podinfo', state, [event(2, 'NotReady', 'Halt podinfo advancement: canary 0/1 ready')]);
    await store.save('podinfo', state, [
      event(3, 'NotReady', 'Halt podinfo advancement: canary 0/1 ready'),
      event(3, 'WeightAdvanced', 'Advance podinfo canary weight 20'),
      event(3, 'NotReady', 'Halt podinfo advancement: canary 0/1 ready'),
    ]);
    expect(writes).toEqual([
      'status podinfo',
      'Event NotReady',
      'status podinfo',
      'Event WeightAdvanced',
      'Event NotReady',
    ]);
  });

  it('reading every Canary again (a new one added) does not make the next save of the others a write', async () => {
    // Every Canary added re-read them all from the API server, whose copies lack the nulls
    // its schema prunes: each Canary's next save then differed, and was written (bench:operator).
    const { api, writes } = recordingApi();
    const store = new CanaryStatusStore({ api, namespace: 'shop', canaryOf: () => undefined });
    const state = { revision: 'r1', canaryRevision: null } as unknown as PersistedRollout;
    await store.save('podinfo', state);
    await store.loadAll();
    await store.save('podinfo', state);
    expect(writes).toEqual(['status podinfo']);
  });
});
