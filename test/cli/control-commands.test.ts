// The commands that talk to the control API — status, get events, watch, promote, pause,
// set-weight, gate — run as the built binary against a real embedded runtime (router,
// processes, controller, control API on port 0) started in this test process.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAviaryConfig } from '../../src/config/app-schema.js';
import { startRuntime, type Runtime } from '../../src/runtime.js';
import { pollUntil } from '../support/poll.js';
import { HTTP_APP } from '../fixtures/apps/http-app-spec.js';
import { ensureBuilt, hasAnsi, runCli, spawnCli } from './cli-support.js';

const TOKEN = 'test-token-0123456789';

function app(name: string, suspend: boolean): Record<string, unknown> {
  return {
    name,
    path: `/${name}`,
    process: {
      command: process.execPath,
      args: [HTTP_APP],
      env: { APP_VERSION: '1' },
      readinessProbe: { httpGet: { path: '/ping' }, interval: '50ms' },
    },
    canary: { suspend, analysis: { interval: '1s', threshold: 2, maxWeight: 50, stepWeight: 20 } },
  };
}

let stateDir: string;
let emptyDir: string;
let runtime: Runtime | undefined;
let api: string;

beforeAll(async () => {
  await ensureBuilt();
  stateDir = await mkdtemp(join(tmpdir(), 'aviary-cli-state-'));
  emptyDir = await mkdtemp(join(tmpdir(), 'aviary-cli-cwd-'));
  const parsed = parseAviaryConfig({
    apiVersion: 'aviary.dev/v1alpha1',
    kind: 'Aviary',
    router: { port: 0 },
    api: { port: 0 },
    stateDir,
    minAnalysisInterval: '100ms',
    apps: [app('catalogdetail', false), app('frozen', true)],
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  runtime = await startRuntime(parsed.value, { token: TOKEN, drainMs: 0 });
  api = runtime.controlUrl;
  await pollUntil(() =>
    runtime?.controller.view('catalogdetail').status?.phase === 'Initialized' ? true : undefined,
  );
}, 240_000);

afterAll(async () => {
  await runtime?.close();
  await rm(stateDir, { recursive: true, force: true });
  await rm(emptyDir, { recursive: true, force: true });
});

const withToken = { env: { AVIARY_TOKEN: TOKEN } };

describe('reading', () => {
  it('status prints a table of apps without ANSI escapes when piped', async () => {
    const result = await runCli(['status', '--api', api]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^APP +PHASE +CANARY +FAILED +REVISION +LAST EVENT$/);
    const revision = runtime?.controller.view('catalogdetail').revision ?? '';
    expect(lines.find((line) => line.startsWith('catalogdetail'))).toMatch(
      new RegExp(`^catalogdetail +Initialized +0% +0/2 +${revision} +\\d+s ago  \\w+: `),
    );
    expect(lines.some((line) => line.startsWith('frozen '))).toBe(true);
    expect(hasAnsi(result.stdout + result.stderr)).toBe(false);
  });

  it('status --json prints the views with their last event; AVIARY_API sets the address', async () => {
    const result = await runCli(['status', '--json', 'catalogdetail'], { env: { AVIARY_API: api } });
    expect(result.code).toBe(0);
    const [entry, ...rest] = JSON.parse(result.stdout);
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({
      app: 'catalogdetail',
      threshold: 2,
      status: { phase: 'Initialized', canaryWeight: 0 },
    });
    expect(entry.lastEvent).toMatchObject({ app: 'catalogdetail' });
  });

  it('exits 4 naming the known apps for an unknown one', async () => {
    const result = await runCli(['status', 'nosuchapp', '--api', api]);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(
      'unknown app: rollout nosuchapp does not exist; known apps: catalogdetail, frozen',
    );
  });
});

describe('commands', () => {
  it('exits 4 without a token and says where the token comes from', async () => {
    const result = await runCli(['promote', 'catalogdetail', '--api', api], { cwd: emptyDir });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('refused (401)');
    expect(result.stderr).toContain('no token was sent');
    expect(result.stderr).toContain('.aviary/token (not found)');
    const wrong = await runCli(['pause', 'catalogdetail', '--api', api], { env: { AVIARY_TOKEN: 'wrong' } });
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toContain('the token from AVIARY_TOKEN does not match');
  });

  it('promote with the token is recorded as an event that get events shows', async () => {
    const before = Date.now();
    const result = await runCli(['promote', 'catalogdetail', '--api', api], withToken);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('promote requested for catalogdetail');
    const json = await runCli(['get', 'events', 'catalogdetail', '--since', '5m', '--json', '--api', api]);
    expect(json.code).toBe(0);
    const events = JSON.parse(json.stdout);
    const received = events.find((e: any) => e.reason === 'CommandReceived');
    expect(received).toMatchObject({
      app: 'catalogdetail',
      message: expect.stringMatching(/^promote requested by cli:/),
    });
    expect(received.at).toBeGreaterThanOrEqual(before - 1000);
    const table = await runCli(['get', 'events', '--api', api]);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^TIME +APP +REASON +MESSAGE$/);
    expect(table.stdout).toMatch(
      /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +catalogdetail +CommandReceived +promote requested by cli:/,
    );
    expect(hasAnsi(table.stdout)).toBe(false);
  });

  it('exits 4 with the reason on 409 (a suspended rollout) and 404 (an unknown app)', async () => {
    const [suspended, unknown] = await Promise.all([
      runCli(['abort', 'frozen', '--api', api], withToken),
      runCli(['resume', 'nosuchapp', '--api', api], withToken),
    ]);
    expect(suspended.code).toBe(4);
    expect(suspended.stderr).toContain('refused (409): rollout frozen is suspended');
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('unknown app: rollout nosuchapp does not exist');
  });

  it('set-weight and gate reach the controller', async () => {
    const [weight, gate] = await Promise.all([
      runCli(['set-weight', 'catalogdetail', '--canary', '30', '--api', api], withToken),
      runCli(
        ['gate', 'open', 'catalogdetail', 'confirm-promotion', '--reason', 'QA ok', '--api', api],
        withToken,
      ),
    ]);
    expect(weight.code, weight.stderr).toBe(0);
    expect(weight.stdout).toContain('canary weight 30% requested for catalogdetail');
    expect(gate.code, gate.stderr).toBe(0);
    expect(gate.stdout).toContain('gate confirm-promotion of catalogdetail is open');
    const events = runtime?.controller.events('catalogdetail') ?? [];
    expect(events.map((e) => e.message)).toContainEqual(
      expect.stringMatching(/^set-weights requested by cli:/),
    );
  });
});

describe('watch', () => {
  it('--once prints each app block and exits', async () => {
    const result = await runCli(['watch', '--once', 'catalogdetail', '--api', api]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^catalogdetail {2}\w+ {2}revision \w+ {2}failed 0\/2/);
    expect(result.stdout).toMatch(/\n {2}primary [█░]{10} canary \d+%\n/);
    expect(result.stdout).not.toContain('frozen');
    expect(hasAnsi(result.stdout)).toBe(false);
  });

  it('appends lines as events arrive and exits 0 on Ctrl-C', async () => {
    const watch = spawnCli(['watch', 'catalogdetail', '--api', api]);
    await watch.waitForStdout((out) => out.includes('catalogdetail'), 'first status line');
    const paused = await runCli(['pause', 'catalogdetail', '--api', api], withToken);
    expect(paused.code).toBe(0);
    await watch.waitForStdout(
      (out) => /catalogdetail CommandReceived: pause requested by cli:/.test(out),
      'pause event',
    );
    watch.child.kill('SIGINT');
    expect(await watch.exited).toBe(0);
    expect(hasAnsi(watch.stdout())).toBe(false);
    expect(watch.stdout()).not.toContain('frozen');
  });

  it('--json prints one JSON object per line and exits 0 when the API ends the stream', async () => {
    const watch = spawnCli(['watch', '--json', '--api', api]);
    await watch.waitForStdout((out) => out.includes('"type":"status"'), 'a status line');
    const resumed = await runCli(['resume', 'catalogdetail', '--api', api], withToken);
    expect(resumed.code).toBe(0);
    await watch.waitForStdout((out) => out.includes('resume requested by'), 'the resume event');
    const closing = runtime;
    runtime = undefined;
    await closing?.close();
    expect(await watch.exited).toBe(0);
    const lines = watch
      .stdout()
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(new Set(lines.map((line) => line.type))).toEqual(new Set(['status', 'event']));
    expect(lines.map((line) => line.data.app)).toContain('frozen');
    expect(watch.stderr()).toContain('the control API ended the event stream');
  });
});
