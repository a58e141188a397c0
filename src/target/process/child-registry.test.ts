import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeStateDir, removeStateDir } from '../../../test/fixtures/apps/http-app-spec.js';
import { readRegistry, RegistryWriter, writeRegistry, type RegistryDocument } from './child-registry.js';

const document: RegistryDocument = {
  format: 1,
  instance: 'b3f1c9e2',
  owner: { pid: 4242, startTicks: '1234' },
  versions: [
    {
      app: 'shop',
      role: 'canary',
      spec: { command: 'node', args: ['a.js'], env: { K: 'v' }, replicas: 2, cwd: '/srv' },
    },
  ],
  children: [
    {
      pid: 100,
      pgid: 100,
      port: 41000,
      app: 'shop',
      role: 'canary',
      revision: 'abc',
      replica: 0,
      startedAt: 1,
      startTicks: null,
    },
  ],
};

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await makeStateDir();
  path = join(dir, 'children.json');
});
afterEach(() => removeStateDir(dir));

describe('child registry file', () => {
  it('round-trips, is private to its owner and leaves no temporary file', async () => {
    await writeRegistry(path, document);
    expect(await readRegistry(path)).toEqual(document);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['children.json']);
  });

  it('reads a missing file as no previous run', async () => {
    expect(await readRegistry(path)).toBeUndefined();
  });

  it('names the bad field of a damaged file', async () => {
    await writeFile(path, JSON.stringify({ ...document, children: [{ ...document.children[0], pid: 'x' }] }));
    await expect(readRegistry(path)).rejects.toMatchObject({
      code: 'AVIARY_TARGET_STATE_CORRUPT',
      message: expect.stringContaining('children.0.pid') as unknown,
    });
    await writeFile(path, '{"format":');
    await expect(readRegistry(path)).rejects.toMatchObject({ code: 'AVIARY_TARGET_STATE_CORRUPT' });
  });
});

describe('RegistryWriter', () => {
  it('writes the latest state when flushed, after a burst of changes', async () => {
    let replicas = 0;
    const [version] = document.versions;
    if (version === undefined) throw new Error('fixture has a version');
    const writer = new RegistryWriter(
      path,
      () => ({ ...document, versions: [{ ...version, spec: { ...version.spec, replicas } }] }),
      (error) => {
        throw error;
      },
    );
    for (replicas = 1; replicas <= 20; replicas++) writer.schedule();
    replicas = 42;
    await writer.flush();
    expect((await readRegistry(path))?.versions[0]?.spec.replicas).toBe(42);
  });
});
