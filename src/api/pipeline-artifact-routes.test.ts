// The artifact routes of the pipelines API on a real control API over loopback, over a real
// ArtifactStore (tag v1.0.0 referenced by a release, v2.0.0 not).
import { lstat } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  callApi,
  commitOf,
  PIPELINES_TOKEN,
  startPipelinesControlServer,
  type CallOptions,
  type PipelinesControlServer,
} from '../../test/support/pipelines-control-server.js';

let server: PipelinesControlServer;

beforeEach(async () => {
  server = await startPipelinesControlServer();
});

afterEach(async () => {
  await server.close();
});

const auth = { authorization: `Bearer ${PIPELINES_TOKEN}` };
const call = (path: string, options?: CallOptions) => callApi(server.url, path, options);

describe('artifacts', () => {
  it('lists every entry with referenced', async () => {
    const answer = await call('/api/v1/artifacts');
    expect(answer.status).toBe(200);
    expect(answer.body.map((e: any) => [e.tag, e.referenced, e.commit])).toEqual([
      ['v1.0.0', true, commitOf('1')],
      ['v2.0.0', false, commitOf('2')],
    ]);
    expect(answer.body[0].digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gc needs the token and removes only unreferenced artifacts', async () => {
    const kept = server.artifacts.entry('catalogdetail', 'v1.0.0')!;
    const removed = server.artifacts.entry('catalogdetail', 'v2.0.0')!;
    expect((await call('/api/v1/artifacts/gc', { method: 'POST' })).status).toBe(401);
    expect(await server.artifacts.resolve('catalogdetail', 'v2.0.0')).toBeDefined();

    const answer = await call('/api/v1/artifacts/gc', { method: 'POST', headers: auth });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      collected: [{ app: 'catalogdetail', tag: 'v2.0.0' }],
      removedDigests: [removed.digest],
    });
    expect(await lstat(server.artifacts.directoryOf(kept.digest))).toBeDefined();
    await expect(lstat(server.artifacts.directoryOf(removed.digest))).rejects.toThrow();
    const listed = (await call('/api/v1/artifacts')).body;
    expect(listed.find((e: any) => e.tag === 'v2.0.0').collectedAt).toBeDefined();
  });
});

describe('routing', () => {
  it('leaves other paths to the control API', async () => {
    expect((await call('/healthz')).status).toBe(200);
    expect((await call('/api/v1/pipelines/nothing')).status).toBe(404);
    expect((await call('/api/v1/artifacts/v1/extra')).status).toBe(404);
  });
});
