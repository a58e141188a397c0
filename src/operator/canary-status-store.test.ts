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
});
