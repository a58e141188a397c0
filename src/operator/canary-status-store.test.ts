import { describe, expect, it } from 'vitest';
import type { KubeApi } from '../kubernetes/kube-api.js';
import type { RolloutEventRecord } from '../rollout/controller/action-executor.js';
import type { PersistedRollout } from '../rollout/controller/app-record.js';
import { CanaryStatusStore } from './canary-status-store.js';

/** The two writes the store makes, recorded: status patches and Event applies. */
function recordingApi() {
  const writes: string[] = [];
  /** The status of each patch, in order. */
  const patched: Array<{ aviary: { state: PersistedRollout; events: RolloutEventRecord[] } }> = [];
  const api = {
    patchStatus: (path: string, _id: unknown, status: (typeof patched)[number]) => {
      writes.push(`status ${path.split('/').at(-1)}`);
      patched.push(status);
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
  return { api: api as unknown as KubeApi, writes, patched };
}

/** A store whose Canary `podinfo` exists, so its events become Kubernetes Events. */
const storeWithCanary = (api: KubeApi): CanaryStatusStore =>
  new CanaryStatusStore({
    api,
    namespace: 'shop',
    canaryOf: () => ({ metadata: { name: 'podinfo', uid: 'u1' } }),
  });

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
    const store = storeWithCanary(api);
    const state = { revision: 'r1' } as unknown as PersistedRollout;
    await store.save('podinfo', state, [event(1, 'Error', 'HTTPRoute not accepted')]);
    await store.save('podinfo', state, [event(2, 'Error', 'HTTPRoute not accepted')]);
    await store.save('podinfo', state, [
      event(3, 'Error', 'HTTPRoute not accepted'),
      event(3, 'WeightAdvanced', 'Advance podinfo canary weight 20'),
      event(3, 'Error', 'HTTPRoute not accepted'),
    ]);
    // The same document with new events: the Events only; the status waits for a change.
    expect(writes).toEqual(['status podinfo', 'Event Error', 'Event WeightAdvanced', 'Event Error']);
  });

  it('a wait for ready pods is an Event only once it outlasts a check, and only once', async () => {
    const { api, writes, patched } = recordingApi();
    const store = storeWithCanary(api);
    const at = (canaryWeight: number) =>
      ({
        status: { phase: 'Progressing', canaryWeight, lastTransitionTime: 0 },
      }) as unknown as PersistedRollout;
    const canaryWait = 'Halt podinfo advancement: canary 0/1 ready';
    // A wait that ends before the next check: no Event, but the status keeps it.
    await store.save('podinfo', at(0), [event(1, 'NewRevision', 'New revision detected')]);
    await store.save('podinfo', at(0), [event(2, 'NotReady', canaryWait)]);
    await store.save('podinfo', at(10), [event(3, 'WeightAdvanced', 'Advance podinfo canary weight 10')]);
    expect(writes).toEqual(['status podinfo', 'Event NewRevision', 'status podinfo', 'Event WeightAdvanced']);
    expect(patched.at(-1)?.aviary.events.map((e) => e.reason)).toEqual([
      'NewRevision',
      'NotReady',
      'WeightAdvanced',
    ]);
    // A wait still there at the next check: its first hold is written, once, then a new one.
    writes.length = 0;
    await store.save('podinfo', at(10), [event(4, 'NotReady', canaryWait)]);
    expect(writes).toEqual([]);
    await store.save('podinfo', at(10), [event(5, 'NotReady', canaryWait)]);
    await store.save('podinfo', at(10), [event(6, 'NotReady', canaryWait)]);
    await store.save('podinfo', at(10), [
      event(7, 'NotReady', 'Halt podinfo advancement: primary 0/1 ready'),
    ]);
    expect(writes).toEqual(['Event NotReady', 'Event NotReady']);
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

  it('a save that only moves the next check on (a hold) is not written; the next change carries it', async () => {
    const { api, writes, patched } = recordingApi();
    const store = new CanaryStatusStore({ api, namespace: 'shop', canaryOf: () => undefined });
    const status = { phase: 'Progressing', canaryWeight: 10, lastTransitionTime: 0, nextCheckAt: 1000 };
    const at = (nextCheckAt: number, canaryWeight = 10) =>
      ({ status: { ...status, canaryWeight, nextCheckAt } }) as unknown as PersistedRollout;
    await store.save('podinfo', at(1000));
    await store.save('podinfo', at(2000));
    await store.save('podinfo', at(3000));
    await store.save('podinfo', at(4000, 20));
    expect(writes).toEqual(['status podinfo', 'status podinfo']);
    expect(patched.at(-1)?.aviary.state.status?.nextCheckAt).toBe(4000);
  });

  it('events of a tick that changes nothing else are Events at once, and in the status with the next change', async () => {
    const { api, writes, patched } = recordingApi();
    const store = storeWithCanary(api);
    const at = (canaryWeight: number) =>
      ({
        status: { phase: 'Progressing', canaryWeight, lastTransitionTime: 0, nextCheckAt: canaryWeight },
      }) as unknown as PersistedRollout;
    await store.save('podinfo', at(0), [event(1, 'NewRevision', 'New revision detected')]);
    await store.save('podinfo', at(0), [event(2, 'GateClosed', 'Halt podinfo advancement: gate closed')]);
    await store.save('podinfo', at(10), [event(3, 'WeightAdvanced', 'Advance podinfo canary weight 10')]);
    expect(writes).toEqual([
      'status podinfo',
      'Event NewRevision',
      'Event GateClosed',
      'status podinfo',
      'Event WeightAdvanced',
    ]);
    expect(patched.at(-1)?.aviary.events.map((e) => e.reason)).toEqual([
      'NewRevision',
      'GateClosed',
      'WeightAdvanced',
    ]);
  });
});
