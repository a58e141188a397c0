/**
 * `aviary pipelines hook install <bare-repo>` with real git: a bare repository, the installed
 * `post-receive` hook, `git push` from a clone, and the signed GitHub-shaped POST it sends,
 * received first by a recording server on 127.0.0.1 and then by the real webhook receiver.
 * The temporary directory's name holds a quote, a space and `$(...)`, so the hook's quoting
 * is exercised on every push.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { access, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createTestRepository,
  makeTemporaryDir,
  removeTemporaryDir,
  type TestRepository,
} from '../../src/pipelines/git/git-test-support.js';
import { githubSignature, startWebhookReceiver, type PushEvent } from '../../src/pipelines/webhook/index.js';
import { ensureBuilt, runCli } from './cli-support.js';

const execFileAsync = promisify(execFile);
const SECRET = "It's a Secret to Everybody";

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

let dir: string;
let bare: string;
let secretFile: string;
let work: TestRepository;
let server: Server;
let received: Received[];
let url: string;

/** `git push` from the work repository; resolves git's stderr, where hook output appears as `remote:`. */
async function push(...argv: string[]): Promise<string> {
  const { stderr } = await execFileAsync('git', ['push', '--quiet', 'origin', ...argv], {
    cwd: work.dir,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
    },
  });
  return stderr;
}

function installHook(...extra: string[]) {
  return runCli(['pipelines', 'hook', 'install', bare, '--url', url, '--secret-file', secretFile, ...extra]);
}

function payloadOf(delivery: Received | undefined): Record<string, any> {
  if (delivery === undefined) throw new Error('nothing was delivered');
  return JSON.parse(delivery.body.toString('utf8')) as Record<string, any>;
}

beforeAll(async () => {
  await ensureBuilt();
}, 240_000);

beforeEach(async () => {
  dir = join(await makeTemporaryDir('hook'), `o'brien $(touch PWNED) "x"`);
  bare = join(dir, 'acme', 'catalogdetail.git');
  await mkdir(bare, { recursive: true });
  await execFileAsync('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare]);
  secretFile = join(dir, 'hook secret');
  await writeFile(secretFile, `${SECRET}\n`, { mode: 0o600 });
  work = await createTestRepository(dir);
  await work.git('remote', 'add', 'origin', bare);
  received = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(202, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'accepted', runId: `run-${received.length}` }));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/github`;
});

afterEach(async () => {
  if (server.listening) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await removeTemporaryDir(join(dir, '..'));
});

describe('aviary pipelines hook install', () => {
  it('installs an executable hook that names the secret file, never the secret', async () => {
    const result = await installHook();
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('as repository acme/catalogdetail');
    const hook = join(bare, 'hooks', 'post-receive');
    expect((await stat(hook)).mode & 0o111).toBe(0o111);
    const text = await readFile(hook, 'utf8');
    expect(text.startsWith('#!/bin/sh\n')).toBe(true);
    expect(text).not.toContain('Secret to Everybody');
    expect(text).toContain(`'--secret-file' '${secretFile.replaceAll("'", `'\\''`)}'`);
  });

  it('refuses to replace an existing hook without --force', async () => {
    expect((await installHook()).code).toBe(0);
    const again = await installHook();
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('post-receive already exists; pass --force to replace it');
    expect((await installHook('--force')).stdout).toContain('replaced');
  });

  it('refuses a path that is not a bare repository, and a missing secret file', async () => {
    const notBare = await runCli([
      'pipelines',
      'hook',
      'install',
      join(work.dir, '.git'),
      '--secret-file',
      secretFile,
    ]);
    expect(notBare.code).toBe(2);
    expect(notBare.stderr).toContain('not a bare repository');
    const notGit = await runCli(['pipelines', 'hook', 'install', dir, '--secret-file', secretFile]);
    expect(notGit.code).toBe(2);
    expect(notGit.stderr).toContain('not a git repository');
    const badName = await runCli([
      'pipelines',
      'hook',
      'install',
      bare,
      '--secret-file',
      secretFile,
      '--repository',
      'catalogdetail',
    ]);
    expect(badName.stderr).toContain('--repository "catalogdetail": expected owner/name');
    const noSecret = await runCli(['pipelines', 'hook', 'install', bare, '--secret-file', join(dir, 'nope')]);
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toContain('no such file');
  });
});

describe('the installed hook', () => {
  it('posts a signed push of an annotated tag and of a branch', async () => {
    expect((await installHook()).code).toBe(0);
    const commit = await work.commit('first', { 'server.js': 'console.log(1)\n' });
    const branchOutput = await push('main');
    expect(branchOutput).toContain('remote: aviary: refs/heads/main: 202');
    await work.git('tag', '-a', 'v2.0.0', '-m', 'release v2.0.0');
    const tagObject = await work.git('rev-parse', 'v2.0.0');
    expect(tagObject).not.toBe(commit);
    await push('v2.0.0');

    expect(received).toHaveLength(2);
    for (const delivery of received) {
      expect(delivery.headers['x-github-event']).toBe('push');
      expect(delivery.headers['x-github-delivery']).toMatch(/^[0-9a-f-]{36}$/);
      expect(delivery.headers['x-hub-signature-256']).toBe(githubSignature(SECRET, delivery.body));
    }
    expect(received[0]!.headers['x-github-delivery']).not.toBe(received[1]!.headers['x-github-delivery']);
    expect(payloadOf(received[0])).toMatchObject({
      ref: 'refs/heads/main',
      before: '0'.repeat(40),
      after: commit,
      created: true,
      deleted: false,
      repository: { full_name: 'acme/catalogdetail', clone_url: expect.stringMatching(/^file:\/\//) },
      head_commit: { id: commit },
    });
    expect(payloadOf(received[1])).toMatchObject({
      ref: 'refs/tags/v2.0.0',
      after: tagObject,
      created: true,
      deleted: false,
      head_commit: { id: commit },
    });
    await expect(access(join(dir, '..', 'PWNED'))).rejects.toThrow();
    await expect(access(join(bare, 'PWNED'))).rejects.toThrow();
  });

  it('posts a deleted ref with deleted: true and no head commit', async () => {
    expect((await installHook()).code).toBe(0);
    const commit = await work.commit('first', { 'a.txt': 'a\n' });
    await push('main');
    await work.git('tag', 'v1.0.0');
    await push('v1.0.0');
    await push('--delete', 'v1.0.0');
    expect(payloadOf(received[2])).toMatchObject({
      ref: 'refs/tags/v1.0.0',
      before: commit,
      after: '0'.repeat(40),
      created: false,
      deleted: true,
      head_commit: null,
    });
  });

  it('does not fail the push when the receiver is down', async () => {
    const port = (server.address() as AddressInfo).port;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    expect((await installHook()).code).toBe(0);
    await work.commit('first', { 'a.txt': 'a\n' });
    const output = await push('main');
    expect(output).toContain(
      `remote: aviary: warning: refs/heads/main not delivered to http://127.0.0.1:${port}/`,
    );
    expect(output).not.toContain('Secret to Everybody');
    expect(await execFileAsync('git', ['--git-dir', bare, 'rev-parse', 'main'])).toMatchObject({
      stdout: `${await work.git('rev-parse', 'HEAD')}\n`,
    });
  });

  it("is accepted by Aviary's webhook receiver (202), whose onPush sees the tag", async () => {
    const pushes: PushEvent[] = [];
    const receiver = await startWebhookReceiver({
      sources: [{ name: 'catalogdetail', forge: 'github', repository: 'acme/catalogdetail', secret: SECRET }],
      port: 0,
      dedupeFile: join(dir, 'dedupe.jsonl'),
      onPush: (event) => {
        pushes.push(event);
        return Promise.resolve({ runId: 'run-receiver-1' });
      },
    });
    try {
      url = `${receiver.url}/hooks/github`;
      expect((await installHook()).code).toBe(0);
      const commit = await work.commit('first', { 'a.txt': 'a\n' });
      await work.git('tag', '-a', 'v2.0.0', '-m', 'release v2.0.0');
      const output = await push('v2.0.0');
      expect(output).toContain('remote: aviary: refs/tags/v2.0.0: 202');
      expect(output).toContain('run-receiver-1');
      expect(pushes).toHaveLength(1);
      expect(pushes[0]).toMatchObject({
        forge: 'github',
        ref: 'refs/tags/v2.0.0',
        kind: 'tag',
        name: 'v2.0.0',
        after: await work.git('rev-parse', 'v2.0.0'),
        deleted: false,
        repository: 'acme/catalogdetail',
      });
      expect(pushes[0]!.after).not.toBe(commit);
    } finally {
      await receiver.close();
    }
  });
});
