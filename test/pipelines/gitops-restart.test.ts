/**
 * `aviary up` killed with SIGKILL in the middle of a build (issue 14): the restarted
 * `aviary up` marks the run interrupted, kills the build the dead one left running, queues
 * the run again once and completes it, with no partial artifact visible; and the delivery
 * is still known, so the same push delivered again starts nothing.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { installPostReceiveHook } from '../../src/cli/post-receive-hook.js';
import {
  createTestRepository,
  makeTemporaryDir,
  removeTemporaryDir,
} from '../../src/pipelines/git/git-test-support.js';
import type { RunRecord } from '../../src/pipelines/runs/run-record.js';
import { deliver, githubPush } from '../../src/pipelines/webhook/test-support.js';
import { isPidAlive } from '../../src/target/process/process-group.js';
import { findFreePort } from '../../src/target/process/free-port.js';
import { ensureBuilt } from '../cli/cli-support.js';
import { pollUntil } from '../support/poll.js';

const SECRET = 'restart-test-secret';
/** A build step that records its pid, then waits for the test's go-ahead. */
const STEP = `const fs = require('node:fs');
fs.writeFileSync(process.env.PID_FILE, String(process.pid));
console.log('waiting for the go-ahead');
const wait = () => (fs.existsSync(process.env.GO_FILE) ? console.log('built') : setTimeout(wait, 50));
wait();`;

let dir: string;
let apiUrl: string;
let webhookUrl: string;
let config: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  await ensureBuilt();
}, 240_000);

beforeEach(async () => {
  dir = await makeTemporaryDir('gitops-restart');
  const [routerPort, apiPort, webhookPort] = [
    await findFreePort(),
    await findFreePort(),
    await findFreePort(),
  ];
  apiUrl = `http://127.0.0.1:${apiPort}`;
  webhookUrl = `http://127.0.0.1:${webhookPort}`;
  const bare = join(dir, 'app.git');
  await mkdir(bare);
  await promisify(execFile)('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  await writeFile(join(dir, 'secret'), `${SECRET}\n`, { mode: 0o600 });
  await installPostReceiveHook({
    repo: bare,
    url: `${webhookUrl}/hooks/github`,
    repository: 'acme/app',
    secretFile: join(dir, 'secret'),
  });
  config = join(dir, 'aviary.yaml');
  await writeFile(
    config,
    stringify({
      apiVersion: 'aviary.dev/v1alpha1',
      kind: 'Aviary',
      router: { port: routerPort },
      api: { port: apiPort },
      stateDir: join(dir, 'state'),
      apps: [{ name: 'fixed', path: '/', endpoints: { addresses: ['127.0.0.1:9'] } }],
      pipelines: {
        webhooks: { port: webhookPort },
        sources: [
          {
            name: 'app',
            forge: 'github',
            repository: 'acme/app',
            url: bare,
            secretFile: 'secret',
            build: {
              app: 'app',
              steps: [[process.execPath, '-e', STEP]],
              env: { PID_FILE: join(dir, 'step.pid'), GO_FILE: join(dir, 'go') },
            },
          },
        ],
      },
    }),
  );
});

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }
  await removeTemporaryDir(dir);
});

function startAviary(): ChildProcess {
  const child = spawn(process.execPath, ['bin/aviary.js', 'up', '-f', config, '--in-process-router'], {
    stdio: 'ignore',
  });
  children.push(child);
  return child;
}

async function runs(): Promise<RunRecord[]> {
  const res = await fetch(`${apiUrl}/api/v1/pipelines/runs`);
  return (await res.json()) as RunRecord[];
}

describe('aviary up killed mid-build', () => {
  it('interrupts the run, kills its build, re-queues and completes it once restarted; the delivery stays a duplicate', async () => {
    const first = startAviary();
    await pollUntil(() => runs(), 60_000);
    const repo = await createTestRepository(dir);
    await repo.commit('v1', { 'index.js': 'console.log(1)\n' });
    await repo.git('remote', 'add', 'origin', join(dir, 'app.git'));
    await repo.git('tag', '-a', 'v1.0.0', '-m', 'v1.0.0');
    await repo.git('push', '--quiet', 'origin', 'main', 'v1.0.0');
    const running = await pollUntil(
      async () => (await runs()).find((run) => run.state === 'running'),
      60_000,
    );
    const stepPid = Number(await pollUntil(() => readFile(join(dir, 'step.pid'), 'utf8'), 60_000));
    first.kill('SIGKILL');
    await once(first, 'exit');
    expect(await isPidAlive(stepPid)).toBe(true);

    startAviary();
    const requeued = await pollUntil(
      async () => (await runs()).find((run) => run.requeuedFrom === running.id),
      60_000,
    );
    expect((await runs()).find((run) => run.id === running.id)?.state).toBe('interrupted');
    await pollUntil(async () => ((await isPidAlive(stepPid)) ? undefined : true), 30_000);
    const artifacts = await (await fetch(`${apiUrl}/api/v1/artifacts`)).json();
    expect(artifacts).toEqual([]);
    await writeFile(join(dir, 'go'), '');
    const done = await pollUntil(async () => {
      const run = (await runs()).find((r) => r.id === requeued.id);
      return run?.state === 'running' || run?.state === 'queued' ? undefined : run;
    }, 60_000);
    expect(done).toMatchObject({ state: 'succeeded', attempt: 2 });
    const published = (await (await fetch(`${apiUrl}/api/v1/artifacts`)).json()) as { tag: string }[];
    expect(published.map((entry) => entry.tag)).toEqual(['v1.0.0']);

    const again = await deliver(
      webhookUrl,
      'github',
      githubPush('refs/tags/v1.0.0', running.after!, 'acme/app'),
      {
        secret: SECRET,
        event: 'push',
        deliveryId: 'a-new-delivery-id',
      },
    );
    expect(again).toMatchObject({ status: 200, body: { status: 'duplicate' } });
    expect(await runs()).toHaveLength(2);
  }, 240_000);
});
