/**
 * `aviary up` as a user runs it (the built binary, a fresh state directory, no AVIARY_TOKEN),
 * docs/security.md: the router and the control API bind 127.0.0.1, the state directory is
 * 0700 and the token file it creates 0600, refused calls never echo the token, and neither
 * does anything the process prints; `api.host: 0.0.0.0` prints the exposure warning.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTP_APP } from '../fixtures/apps/http-app-spec.js';
import { ensureBuilt, spawnCli, type CliProcess } from '../cli/cli-support.js';

let dir: string;
const running: CliProcess[] = [];
/** Settles once a process has exited and its stdout and stderr are read to the end ('close', not 'exit'). */
const closed = new WeakMap<CliProcess, Promise<void>>();

function aviaryYaml(stateDir: string, apiHost?: string): string {
  return `apiVersion: aviary.dev/v1alpha1
kind: Aviary
router: {port: 0}
api: {port: 0${apiHost === undefined ? '' : `, host: ${JSON.stringify(apiHost)}`}}
stateDir: ${JSON.stringify(stateDir)}
apps:
  - name: catalogdetail
    path: /catalogDetail
    process: {command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(HTTP_APP)}]}
`;
}

async function startUp(
  name: string,
  apiHost?: string,
): Promise<{ up: CliProcess; stateDir: string; api: string }> {
  const stateDir = join(dir, name, 'state');
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, aviaryYaml(stateDir, apiHost));
  const up = spawnCli(['up', '-f', file]);
  closed.set(up, new Promise((resolve) => up.child.once('close', () => resolve())));
  running.push(up);
  const out = await up.waitForStdout(
    (text) => /control API and dashboard on \S+/.test(text),
    'control API line',
  );
  const api = /control API and dashboard on (\S+)/.exec(out)?.[1] ?? '';
  return { up, stateDir, api };
}

async function stop(up: CliProcess): Promise<void> {
  up.child.kill('SIGTERM');
  await up.exited;
  await closed.get(up);
}

beforeAll(async () => {
  await ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'aviary-security-up-'));
}, 240_000);

afterAll(async () => {
  for (const up of running) if (up.child.exitCode === null) await stop(up);
  await rm(dir, { recursive: true, force: true });
});

describe('aviary up with the defaults', () => {
  it('binds loopback, keeps its state private and never prints the token', async () => {
    const { up, stateDir, api } = await startUp('defaults');
    expect(new URL(api).hostname).toBe('127.0.0.1');
    const router = /router on (\S+)/.exec(up.stdout())?.[1] ?? '';
    expect(new URL(router).hostname).toBe('127.0.0.1');
    expect((await stat(stateDir)).mode & 0o777).toBe(0o700);
    const tokenFile = join(stateDir, 'token');
    expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);
    const token = (await readFile(tokenFile, 'utf8')).trim();
    expect(token.length).toBeGreaterThanOrEqual(32);

    const bodies: string[] = [];
    for (const headers of [
      {},
      { authorization: 'Bearer wrong' },
      { authorization: `Bearer ${token}`, origin: 'https://evil.example' },
    ]) {
      const response = await fetch(`${api}/api/v1/rollouts/catalogdetail/promote`, {
        method: 'POST',
        headers,
      });
      bodies.push(await response.text());
      expect([401, 403]).toContain(response.status);
    }
    const pause = await fetch(`${api}/api/v1/rollouts/catalogdetail/pause`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(pause.status).toBe(202);
    bodies.push(await (await fetch(`${api}/api/v1/events`)).text());
    await stop(up);
    for (const text of [...bodies, up.stdout(), up.stderr()]) expect(text).not.toContain(token);
    expect(up.stderr()).not.toContain('beyond loopback');
  }, 60_000);
});

describe('aviary up with api.host 0.0.0.0', () => {
  it('warns on stderr that the control API is exposed without TLS', async () => {
    const { up, api } = await startUp('exposed', '0.0.0.0');
    expect(new URL(api).hostname).toBe('0.0.0.0');
    await stop(up);
    expect(up.stderr()).toMatch(
      /warning: the control API listens on 0\.0\.0\.0:\d+, beyond loopback, over plain HTTP without TLS/,
    );
  }, 60_000);
});
