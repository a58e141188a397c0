import { describe, expect, it } from 'vitest';
import { AviaryError } from '../errors.js';
import type { CanaryObject } from './canary-app.js';
import { CanaryCommands } from './canary-commands.js';

/** The controller and API seams, recording what they are asked. */
function harness(options: { refuse?: AviaryError; patchFails?: Error[] } = {}) {
  const calls: string[] = [];
  const patches: unknown[] = [];
  const warnings: string[] = [];
  const failures = [...(options.patchFails ?? [])];
  const commands = new CanaryCommands({
    controller: {
      command: (app, command, by) => {
        calls.push(`${app} ${JSON.stringify(command)} by ${by}`);
        if (options.refuse) throw options.refuse;
      },
      setGate: (app, gate, open, by) => {
        calls.push(`${app} gate ${gate} ${open ? 'open' : 'close'} by ${by}`);
        return Promise.resolve();
      },
    },
    api: {
      mergePatch: <T>(patch: T) => {
        patches.push(patch);
        const failure = failures.shift();
        return failure ? Promise.reject(failure) : Promise.resolve(patch);
      },
    },
    warn: (app, reason, message) => {
      warnings.push(`${app} ${reason}: ${message}`);
      return Promise.resolve();
    },
  });
  return { commands, calls, patches, warnings };
}

const canary = (annotations: Record<string, string>, resourceVersion = '7'): CanaryObject => ({
  metadata: { name: 'podinfo', namespace: 'web', uid: 'u1', resourceVersion, annotations },
});

describe('carrying out the commands of a Canary', () => {
  it('carries out each request through the controller, then removes those annotations from that version only', async () => {
    const { commands, calls, patches, warnings } = harness();
    await commands.handle(
      canary({ 'aviary.dev/promote': '', 'aviary.dev/open-gate': 'confirm-promotion', team: 'a' }),
    );
    expect(calls).toEqual([
      'podinfo gate confirm-promotion open by annotation aviary.dev/open-gate',
      'podinfo {"kind":"promote"} by annotation aviary.dev/promote',
    ]);
    expect(patches).toEqual([
      {
        apiVersion: 'aviary.dev/v1alpha1',
        kind: 'Canary',
        metadata: {
          name: 'podinfo',
          namespace: 'web',
          resourceVersion: '7',
          annotations: { 'aviary.dev/open-gate': null, 'aviary.dev/promote': null },
        },
      },
    ]);
    expect(warnings).toEqual([]);
  });

  it('does nothing for a Canary without commands', async () => {
    const { commands, calls, patches } = harness();
    await commands.handle(canary({ team: 'a' }));
    expect([calls, patches]).toEqual([[], []]);
  });

  it('a malformed value is a Warning naming the annotation and what was expected, and is removed all the same', async () => {
    const { commands, calls, patches, warnings } = harness();
    await commands.handle(canary({ 'aviary.dev/canary-weight': 'lots' }));
    expect(calls).toEqual([]);
    expect(warnings).toEqual([
      'podinfo CommandRefused: aviary.dev/canary-weight="lots" refused: aviary.dev/canary-weight: expected a whole number from 0 to 100, got "lots"',
    ]);
    expect(patches).toHaveLength(1);
  });

  it('a command the controller refuses is a Warning; one an ended rollout ignores is left to its CommandIgnored event', async () => {
    const suspended = harness({
      refuse: new AviaryError('AVIARY_ROLLOUT_SUSPENDED', 'rollout podinfo is suspended'),
    });
    await suspended.commands.handle(canary({ 'aviary.dev/pause': '' }));
    expect(suspended.warnings).toEqual([
      'podinfo CommandRefused: aviary.dev/pause="" refused: rollout podinfo is suspended',
    ]);
    const ended = harness({ refuse: new AviaryError('AVIARY_CONFLICT', 'promote podinfo ignored') });
    await ended.commands.handle(canary({ 'aviary.dev/promote': '' }));
    expect(ended.warnings).toEqual([]);
    expect([suspended.patches.length, ended.patches.length]).toEqual([1, 1]);
  });

  it('when the Canary changed before the removal, the next reading removes it without carrying it out twice', async () => {
    const conflict = new AviaryError(
      'AVIARY_KUBE_API',
      'patch Canary web/podinfo: the object has been modified (HTTP 409)',
    );
    const { commands, calls, patches, warnings } = harness({ patchFails: [conflict] });
    await commands.handle(canary({ 'aviary.dev/promote': '' }, '7'));
    await commands.handle(canary({ 'aviary.dev/promote': '', team: 'b' }, '8'));
    expect(calls).toHaveLength(1);
    expect(
      patches.map((p) => (p as { metadata: { resourceVersion: string } }).metadata.resourceVersion),
    ).toEqual(['7', '8']);
    expect(warnings).toEqual([]);
    // Removed: the same annotation given again later is a new request.
    await commands.handle(canary({ 'aviary.dev/promote': '' }, '9'));
    expect(calls).toHaveLength(2);
  });

  it('a new value given before the removal is a new request', async () => {
    const conflict = new AviaryError('AVIARY_KUBE_API', 'modified (HTTP 409)');
    const { commands, calls } = harness({ patchFails: [conflict] });
    await commands.handle(canary({ 'aviary.dev/canary-weight': '20' }, '7'));
    await commands.handle(canary({ 'aviary.dev/canary-weight': '40' }, '8'));
    expect(calls).toEqual([
      'podinfo {"kind":"set-weights","canaryWeight":20} by annotation aviary.dev/canary-weight',
      'podinfo {"kind":"set-weights","canaryWeight":40} by annotation aviary.dev/canary-weight',
    ]);
  });

  it('a removal refused for another reason is said once, and the command is not repeated', async () => {
    const forbidden = new AviaryError('AVIARY_KUBE_API', 'patch Canary web/podinfo: forbidden (HTTP 403)');
    const { commands, calls, warnings } = harness({ patchFails: [forbidden, forbidden] });
    await commands.handle(canary({ 'aviary.dev/resume': '' }, '7'));
    expect(warnings).toEqual([
      'podinfo CommandNotCleared: carried out aviary.dev/resume but could not remove the annotation: patch Canary web/podinfo: forbidden (HTTP 403)',
    ]);
    await commands.handle(canary({ 'aviary.dev/resume': '' }, '8'));
    expect(calls).toHaveLength(1);
    expect(warnings).toHaveLength(1);
  });
});
