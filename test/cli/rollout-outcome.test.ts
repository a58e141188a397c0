// How a rollout's end reaches the command line, through the built binary against a real
// embedded runtime: `aviary wait` exits 0 for a promotion and 5 for a rollback, printing
// progress meanwhile, and 1 on --timeout; `aviary promote` on a rolled-back rollout says it
// was ignored and exits non-zero. Rollouts are held at a manual gate, so the test, not a
// clock, decides when each one ends.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAviaryConfig, type AviaryConfig } from '../../src/config/app-schema.js';
import { startRuntime, type Runtime } from '../../src/runtime.js';
import { HTTP_APP } from '../fixtures/apps/http-app-spec.js';
import { pollUntil } from '../support/poll.js';
import { ensureBuilt, runCli, spawnCli } from './cli-support.js';

const TOKEN = 'test-token-wait-0123456789';
const withToken = { env: { AVIARY_TOKEN: TOKEN } };

let stateDir: string;
let runtime: Runtime | undefined;
let api: string;

function config(version: string): AviaryConfig {
  const parsed = parseAviaryConfig({
    apiVersion: 'aviary.dev/v1alpha1',
    kind: 'Aviary',
    router: { port: 0 },
    api: { port: 0 },
    stateDir,
    minAnalysisInterval: '100ms',
    apps: [
      {
        name: 'web',
        path: '/web',
        process: {
          command: process.execPath,
          args: [HTTP_APP],
          env: { APP_VERSION: version },
          readinessProbe: { httpGet: { path: '/ping' }, interval: '50ms' },
        },
        canary: {
          analysis: {
            interval: '200ms',
            threshold: 2,
            maxWeight: 20,
            stepWeight: 20,
            // The outcome comes from the gate and the webhook; the judge would hold on so little traffic.
            judge: false,
            webhooks: [{ name: 'approve', type: 'confirm-promotion', url: 'aviary:gate' }],
          },
        },
      },
    ],
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.value;
}

/** Saves a new revision and waits until the controller holds it at the promotion gate. */
async function deploy(version: string): Promise<void> {
  runtime!.update(config(version));
  await pollUntil(() =>
    runtime?.controller.view('web').status?.phase === 'WaitingPromotion' ? true : undefined,
  );
}

beforeAll(async () => {
  await ensureBuilt();
  stateDir = await mkdtemp(join(tmpdir(), 'aviary-cli-wait-'));
  runtime = await startRuntime(config('1'), { token: TOKEN, drainMs: 0 });
  api = runtime.controlUrl;
  await pollUntil(() => (runtime?.controller.view('web').status?.phase === 'Initialized' ? true : undefined));
}, 240_000);

afterAll(async () => {
  await runtime?.close();
  await rm(stateDir, { recursive: true, force: true });
});

describe('aviary wait and an ended rollout', () => {
  it('wait exits 5 with progress when the rollout is rolled back; promote then says it was ignored', async () => {
    await deploy('2');
    const waiting = spawnCli(['wait', 'web', '--api', api]);
    await waiting.waitForStdout((out) => out.includes('WaitingPromotion'), 'progress line');
    runtime!.controller.command('web', { kind: 'abort', reason: 'test' }, 'test');
    expect(await waiting.exited).toBe(5);
    expect(waiting.stdout()).toMatch(/web Failed/);
    expect(waiting.stderr()).toMatch(/rollout web was rolled back/);

    const promote = await runCli(['promote', 'web', '--api', api], withToken);
    expect(promote.code).not.toBe(0);
    expect(promote.code).toBe(4);
    expect(promote.stderr).toContain('promote web ignored: nothing to promote in phase Failed');
    expect(runtime!.controller.events('web').at(-1)).toMatchObject({ reason: 'CommandIgnored' });
  });

  it('wait exits 0 when the rollout is promoted, and 1 when --timeout passes first', async () => {
    await deploy('3');
    const timedOut = await runCli(['wait', 'web', '--timeout', '300ms', '--api', api]);
    expect(timedOut.code).toBe(1);
    expect(timedOut.stderr).toContain('rollout web still WaitingPromotion after --timeout');

    const waiting = spawnCli(['wait', 'web', '--api', api]);
    await waiting.waitForStdout((out) => out.includes('WaitingPromotion'), 'progress line');
    runtime!.controller.command('web', { kind: 'promote' }, 'test');
    expect(await waiting.exited).toBe(0);
    expect(waiting.stdout()).toMatch(/web: promoted \(revision \w+\)/);
  });
});
