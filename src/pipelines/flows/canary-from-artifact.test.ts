import { describe, expect, it } from 'vitest';
import { parseAviaryConfig, type AviaryConfig } from '../../config/app-schema.js';
import { canaryConfigOf, VERSION_VARIABLE } from './canary-from-artifact.js';
import type { FlowError } from './flow-error.js';

function config(): AviaryConfig {
  const parsed = parseAviaryConfig({
    apiVersion: 'aviary.dev/v1alpha1',
    kind: 'Aviary',
    apps: [
      { name: 'shop', path: '/', process: { command: 'node', args: ['server.js'], env: { MODE: 'prod' } } },
      { name: 'fixed', path: '/fixed', endpoints: { addresses: ['127.0.0.1:9'] } },
    ],
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
}

describe('canaryConfigOf', () => {
  it('runs the app from the artifact with the tag in its environment, and leaves the other apps alone', () => {
    const before = config();
    const next = canaryConfigOf(before, 'shop', 'v2.0.0', '/state/artifacts/sha256-ab', false);
    expect(next.apps[0]!.workload).toMatchObject({
      command: 'node',
      args: ['server.js'],
      cwd: '/state/artifacts/sha256-ab',
      env: { MODE: 'prod', [VERSION_VARIABLE]: 'v2.0.0' },
    });
    expect(next.apps[1]).toBe(before.apps[1]);
    expect(before.apps[0]!.workload).not.toHaveProperty('cwd');
  });

  it('refuses an unknown app, an app run from a release file, and one that is not a process', () => {
    const refusal = (app: string, owned: boolean) => {
      try {
        canaryConfigOf(config(), app, 'v2.0.0', '/a', owned);
      } catch (err) {
        return `${(err as FlowError).code}: ${(err as Error).message}`;
      }
      return 'accepted';
    };
    expect(refusal('nope', false)).toMatch(/AVIARY_FLOW_CANARY_REFUSED: .*not in aviary.yaml/);
    expect(refusal('shop', true)).toMatch(/AVIARY_FLOW_CANARY_REFUSED: .*release file/);
    expect(refusal('fixed', false)).toMatch(/AVIARY_FLOW_CANARY_REFUSED: .*endpoints/);
  });
});
