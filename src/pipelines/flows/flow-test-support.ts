/**
 * What the flow tests share: a fake forge status API on 127.0.0.1 (node:http, port 0) that
 * records every request, and a bare repository a work repository pushes to.
 */
import { execFile } from 'node:child_process';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** One request the fake forge received. */
export interface ForgeRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
}

/** A fake forge API on loopback. */
export interface FakeForge {
  readonly url: string;
  readonly requests: ForgeRequest[];
  close(): Promise<void>;
}

/** Starts a fake forge answering `answer(request)` (default 201 `{}`). */
export async function startFakeForge(
  answer: (request: ForgeRequest) => { status: number; body?: string } = () => ({ status: 201 }),
): Promise<FakeForge> {
  const requests: ForgeRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const request: ForgeRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
      };
      requests.push(request);
      const reply = answer(request);
      res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.body ?? '{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Creates an empty bare repository `<parent>/<name>.git`; resolves its path. */
export async function createBareRepository(parent: string, name: string): Promise<string> {
  const bare = join(parent, `${name}.git`);
  await promisify(execFile)('git', ['init', '--bare', '--quiet', '--initial-branch=main', bare]);
  return bare;
}

/** A work repository that can commit, tag and push (see `git-test-support.ts`). */
interface TaggingRepository {
  commit(message: string, files: Record<string, string>): Promise<string>;
  git(...argv: string[]): Promise<string>;
}

/**
 * Commits VERSION, tags it annotated (forcing when asked), pushes the tag to `bare`;
 * resolves the tag object id (a push's `after`) and the commit.
 */
export async function pushAnnotatedTag(
  repo: TaggingRepository,
  bare: string,
  tag: string,
  version: string,
  force = false,
): Promise<{ after: string; commit: string }> {
  const commit = await repo.commit(version, { VERSION: `${version}\n` });
  await repo.git('tag', '-a', ...(force ? ['--force'] : []), tag, '-m', tag);
  await repo.git('push', '--quiet', ...(force ? ['--force'] : []), bare, `refs/tags/${tag}`);
  return { after: await repo.git('rev-parse', `refs/tags/${tag}`), commit };
}
