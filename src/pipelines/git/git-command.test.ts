import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fetchRef, openCache, type GitCache } from './git-cache.js';
import { withoutUrlCredentials } from './git-command.js';
import type { GitError } from './git-error.js';
import { makeTemporaryDir, removeTemporaryDir } from './git-test-support.js';

let root: string;
let cache: GitCache;
let server: Server;
let port: number;

beforeEach(async () => {
  root = await makeTemporaryDir('git-command');
  cache = await openCache(join(root, 'cache'), 'shop');
  // A loopback HTTP server that asks for credentials: git must fail at once, never prompt.
  server = createServer((socket) => {
    socket.once('data', () =>
      socket.end(
        'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="x"\r\nContent-Length: 0\r\n\r\n',
      ),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
  await removeTemporaryDir(root);
});

describe('git command', () => {
  it('fails without prompting when a remote asks for credentials', async () => {
    const error = await fetchRef(cache, `http://127.0.0.1:${port}/shop.git`, 'refs/heads/main').catch(
      (e: unknown) => e,
    );
    expect((error as GitError).code).toBe('AVIARY_GIT_COMMAND_FAILED');
    expect((error as GitError).stderr).toMatch(/Authentication failed|could not read Username/i);
  });

  it('keeps the credentials of a URL out of the error, whatever git prints', async () => {
    const url = `http://aviary:forge-token-123@127.0.0.1:${port}/shop.git`;
    const error = (await fetchRef(cache, url, 'refs/heads/main').catch((e: unknown) => e)) as GitError;
    expect(error.code).toBe('AVIARY_GIT_COMMAND_FAILED');
    expect(error.message).not.toContain('forge-token-123');
    expect(error.stderr).not.toContain('forge-token-123');
  });

  it('replaces the user-info of every URL in a text', () => {
    expect(withoutUrlCredentials("fatal: unable to access 'https://u:p@host/r.git/' and ssh://git@h/x")).toBe(
      "fatal: unable to access 'https://***@host/r.git/' and ssh://***@h/x",
    );
  });
});
